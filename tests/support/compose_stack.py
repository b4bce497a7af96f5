"""Start the docker-compose stack through testcontainers, where a Docker engine is reachable.

python -m tests.support.compose_stack up     build, start and wait until every service is healthy
python -m tests.support.compose_stack down   stop it and remove its volumes
"""

import sys

from testcontainers.compose import DockerCompose

from tests.support.infra import REPO


def compose() -> DockerCompose:
    """The repository's docker-compose.yml as a testcontainers stack."""
    return DockerCompose(REPO, "docker-compose.yml", build=True, wait=True)


if __name__ == "__main__":
    stack = compose()
    match sys.argv[1:]:
        case ["up"]:
            stack.start()
        case ["down"]:
            stack.stop()
        case _:
            sys.exit(__doc__)
