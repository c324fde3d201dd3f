"""A batch on a Ray cluster: each job a task on a whole node, its files sent back to the
batch's folder."""
import dataclasses
import json
import os
import socket
import tempfile

from art.app.job import Job
from art.app.errors import Terminated, stopped_by
from art.app.jobs_file import BatchError
from art.app.loading import load_weights
from art.app.memory import wants_system_allocator
from art.app.worker import Outcome, outcome_of, paint_one
from art.app import job_files
from art.io.files import write_atomic
from art.network.layers import CONV_LAYERS



def _remote_paint(values, inputs, loaded):
    """A Ray task's job: the inputs' bytes written to a scratch folder, the job painted there
    with the weights the driver sent; (code, reason, {file name: bytes}, {scratch: path}).
    The scratch folder is removed before the task returns."""
    with tempfile.TemporaryDirectory(prefix='art-ray-') as scratch:
        moved = {}
        for index, (path, data) in enumerate(inputs.items()):
            moved[path] = os.path.join(scratch, 'input-%d-%s' % (index, os.path.basename(path)))
            with open(moved[path], 'wb') as handle:
                handle.write(data)
        job = Job.from_dict(values)
        folder = os.path.join(scratch, 'out')
        os.makedirs(folder)
        local = dataclasses.replace(
            job.with_pictures_moved(moved.get), output=os.path.join(folder, os.path.basename(
                job.output)), loss_log=job.loss_log and os.path.join(
                    folder, os.path.basename(job.loss_log)))
        lines = []
        code, reason = paint_one(local, lines.append, loaded)
        written = {}
        for name in os.listdir(folder):
            if not os.path.isfile(os.path.join(folder, name)):
                continue  # a clip's frames and cache stay on the node: its video comes back
            with open(os.path.join(folder, name), 'rb') as handle:
                written[name] = handle.read()
    written[os.path.basename(job.beside_output('', '.log'))] = '\n'.join(lines).encode()
    paths = dict({moved[path]: path for path in moved}, **{folder: os.path.dirname(job.output)})
    return code, reason, written, paths


def _remote_paint_alone(values, inputs, loaded):
    """_remote_paint in a Ray worker of its own, which ends with it (max_calls=1)."""
    return _remote_paint(values, inputs, loaded)


def _with_paths(value, paths):
    """A record's JSON value with the worker's scratch paths made the driver's."""
    if isinstance(value, dict):
        return {key: _with_paths(item, paths) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_paths(item, paths) for item in value]
    if isinstance(value, str):
        for scratch, path in paths.items():
            if value == scratch or value.startswith(scratch + os.sep):
                return path + value[len(scratch):]
    return value


def keep_remote_files(written, paths, out_dir):
    """Write a Ray task's files under out_dir, its record naming the driver's paths."""
    for name, data in written.items():
        if name.endswith('.json'):
            data = json.dumps(_with_paths(json.loads(data), paths), indent=1).encode()

        def write(partial, data=data):
            with open(partial, 'wb') as handle:
                handle.write(data)

        write_atomic(os.path.join(out_dir, name), write)


def node_cpus(ray):
    """CPUs of the cluster's smallest node: a task asking for them has a whole node."""
    return min(node['Resources'].get('CPU', 1) for node in ray.nodes() if node['Alive'])


def connect_ray(address, entries):
    """The ray module, connected to the cluster at `address`; BatchError if it cannot be,
    or if one of the batch's `entries` is a clip given as a folder (a node has no folder:
    a task is sent its inputs' bytes)."""
    for entry in entries:
        if entry.job.is_clip and os.path.isdir(entry.job.content):
            raise BatchError('line %d: the clip %s is a folder of frames, which is not sent '
                             'to a Ray node; give it as a video file'
                             % (entry.line, entry.job.content))
    try:
        import ray  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise BatchError("--ray needs Ray: pip install -e '.[cluster]'") from None
    try:
        if address != 'auto':
            # ray.init would retry an address where nothing listens for minutes.
            host, _, port = address.rpartition(':')
            socket.create_connection((host, int(port)), timeout=10).close()
        ray.init(address=address, logging_level='ERROR', log_to_driver=False)
    except (OSError, RuntimeError, ValueError) as error:
        raise BatchError('cannot reach a Ray cluster at %s: %s (start one with ray start '
                         '--head)' % (address, str(error).splitlines()[0])) from None
    return ray


def paint_on_ray(ray, entries, out_dir, report):
    """Paint the entries as Ray tasks on the connected cluster; report(entry, Outcome) as
    each ends.

    The driver reads the inputs and sends their bytes with each task, and the
    weights once through the object store, so nodes need neither a shared file
    system nor the weights file.
    """
    try:
        cpus = node_cpus(ray)
        task = ray.remote(num_cpus=cpus, max_retries=1)(_remote_paint)
        # Ray keeps a worker between tasks, and TensorFlow in it the allocator its first
        # job chose: a job choosing the system allocator gets a fresh one.
        alone = ray.remote(num_cpus=cpus, max_retries=1, max_calls=1)(_remote_paint_alone)
        sent, pending = {}, {}
        for entry in entries:
            job = entry.job
            key = (job.weights, job.kernel_layout)
            if key not in sent:
                sent[key] = ray.put(load_weights(job, lambda message: None,
                                                 layers=list(CONV_LAYERS)))
            inputs = {}
            for path in job_files.pictures(job).values():
                with open(path, 'rb') as handle:
                    inputs[path] = handle.read()
            chosen = alone if wants_system_allocator(job) else task
            pending[chosen.remote(job.to_dict(), inputs, sent[key])] = entry
        try:
            while pending:
                [done], _ = ray.wait(list(pending), num_returns=1)
                entry = pending.pop(done)
                try:
                    code, reason, written, paths = ray.get(done)
                    keep_remote_files(written, paths, out_dir)
                    report(entry, outcome_of(entry, code, reason))
                except ray.exceptions.RayError as error:
                    report(entry, Outcome('failed', 'worker lost: %s' % str(error).splitlines()[0],
                                          None))
        except (KeyboardInterrupt, Terminated) as stop:
            for ref in pending:
                ray.cancel(ref, force=True)
            for entry in pending.values():
                report(entry, Outcome('interrupted', 'cancelled (%s)' % stopped_by(stop)[1],
                                      None))
            raise
    finally:
        ray.shutdown()
