"""The engine (TensorFlow): arrays in, Iterates out.

files -> arrays -> graph (`vgg`) -> loss terms (`terms`, `losses`) -> evaluator
(`painting` untiled, `tiling` on crops, both an `evaluator.Evaluator`) ->
optimizer (`optimizers`) -> images. `stylize` runs it over a Job's scales;
`costs` and `cpu` say what a painting will cost and in which arithmetic.
Nothing here is imported by `import art.engine` itself, so that the
application's checks can read `costs` and `crops` before TensorFlow loads.
"""
