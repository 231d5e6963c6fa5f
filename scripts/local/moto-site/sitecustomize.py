"""Loaded by the local run's moto server only (PYTHONPATH set by scripts/local/run.ts).

moto's /moto-api/data.json reads every public attribute of every model instance and answers HTTP 500
when one raises anything but TypeError, AttributeError or ValueError. A Batch job's `docker_client`
connects to Docker, which the local run never uses (moto Batch runs with use_docker false), and raises
DockerException without a daemon: one submitted job made the whole dump fail, so the run could not
read the messages moto's SES captured. Here an unavailable Docker reads as a missing attribute.
"""
try:
    from moto.utilities.docker_utilities import DockerModel

    _docker_client = DockerModel.docker_client

    def _docker_client_or_missing(self):  # type: ignore[no-untyped-def]
        try:
            return _docker_client.fget(self)
        except Exception as err:  # docker.errors.DockerException and connection errors
            raise AttributeError(f"docker client unavailable: {type(err).__name__}") from None

    DockerModel.docker_client = property(_docker_client_or_missing)
except ImportError:  # not the moto environment: nothing to adjust
    pass
