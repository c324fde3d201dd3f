"""The network and its weights (no TensorFlow): VGG-19's layers and receptive fields
(`layers`), the MatConvNet file read and checked (`weights`), fetched (`download`),
cached (`cache`), or made up for tests (`synthetic`)."""
