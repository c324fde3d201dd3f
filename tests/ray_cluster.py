"""A throwaway one-node Ray cluster on this machine, for the tests and the benchmark."""
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    """A TCP port on 127.0.0.1 nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def local_cluster(cpus):
    """A one-node Ray cluster on 127.0.0.1 while the block runs; yields its address.

    `ray start --head --block` in a session of its own, so that ending that session
    ends this cluster and no other (`ray stop` would stop every cluster of the machine),
    with a temporary folder of its own (Ray's default, /tmp/ray, outlives every
    cluster), removed when the cluster has ended. The tests and the benchmark run
    batches through it.
    """
    port = free_port()
    with tempfile.TemporaryDirectory(prefix='art-ray-cluster-') as folder:
        head = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), 'ray'), 'start',
                                 '--head', '--block', '--node-ip-address', '127.0.0.1', '--port',
                                 str(port), '--num-cpus', str(cpus), '--include-dashboard',
                                 'false', '--disable-usage-stats', '--temp-dir', folder],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            deadline = time.time() + 120
            while True:
                try:
                    socket.create_connection(('127.0.0.1', port), timeout=1).close()
                    break
                except OSError:
                    if head.poll() is not None or time.time() > deadline:
                        raise RuntimeError('ray start --head did not come up') from None
                    time.sleep(0.5)
            yield '127.0.0.1:%d' % port
        finally:
            # The head, its GCS server, raylet and workers: the session started above.
            # `ray start --block` can take a minute to end its processes on SIGTERM; a
            # throwaway cluster is killed after a few seconds.
            end_session(head, timeout=5)


def end_session(leader, timeout):
    """SIGTERM to every process of the session `leader` leads; once the leader has ended,
    or after `timeout` seconds, SIGKILL to whatever is left of the session."""
    os.killpg(leader.pid, signal.SIGTERM)
    try:
        leader.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(leader.pid, signal.SIGKILL)
    leader.wait()
