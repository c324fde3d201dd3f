"""art: a faithful, fast TF1-style reproduction of log0's art.py."""
import re

from setuptools import setup

VERSION = re.search(r"^__version__ = '([^']+)'", open('art/__init__.py', encoding='utf-8').read(),
                    re.M).group(1)

setup(
    name='art',
    version=VERSION,
    description="log0's art.py (Gatys et al., A Neural Algorithm of Artistic "
                "Style) in tf.compat.v1 graph mode, tested against the original",
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    license='MIT',
    classifiers=['License :: OSI Approved :: MIT License'],
    packages=['art', 'art.io', 'art.network', 'art.engine', 'art.engine.statistics', 'art.app', 'art.examples'],
    package_data={'art.examples': ['*.png', '*.jsonl'], 'art.app': ['page/*']},
    py_modules=['run_art'],
    python_requires='>=3.10',
    install_requires=[
        # The full package: the same wheel runs on CPUs and, with the gpu extra, on
        # NVIDIA GPUs (tensorflow-cpu cannot be combined with a GPU build).
        'tensorflow>=2.16,<2.22',
        'numpy>=1.23',
        # minimize(callback=...) taking intermediate_result and honouring
        # StopIteration: scipy 1.11.
        'scipy>=1.11',
        'imageio>=2.28',
        # Keras's .h5 file of VGG-19 (--weights FILE.h5).
        'h5py>=3.1',
        'pillow>=9.1',
        'tqdm>=4.60',
        # Limits NumPy's BLAS threads while L-BFGS runs beside TensorFlow.
        'threadpoolctl>=3.1',
    ],
    extras_require={
        # The loss curve of a run; the rest of the project works without it.
        'plots': ['matplotlib>=3.5'],
        # CUDA and cuDNN from the registry, for TensorFlow on an NVIDIA GPU (Linux).
        'gpu': ['tensorflow[and-cuda]>=2.16,<2.22'],
        # Batches on a Ray cluster (run_art.py --batch JOBS --ray ADDRESS).
        'cluster': ['ray>=2.9'],
        # Video (run_art.py --content clip.mp4): optical flow and ffmpeg, both from wheels.
        'video': ['opencv-python-headless>=4.8', 'imageio-ffmpeg>=0.5'],
        # The live page's tests drive the system's Chromium (Debian's chromium package).
        'test': ['pytest>=7', 'matplotlib>=3.5', 'ray>=2.9', 'opencv-python-headless>=4.8',
                 'imageio-ffmpeg>=0.5', 'playwright>=1.40'],
    },
    entry_points={'console_scripts': ['art-paint=art.app.cli:command']},
)
