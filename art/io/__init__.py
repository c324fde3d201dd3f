"""Files and pictures in and out (no TensorFlow): reading and writing pictures safely
(`files`), converting them to and from the network's images (`images`), and contact
sheets (`sheets`)."""
