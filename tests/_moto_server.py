"""moto's server mode (PyPI ``moto[server]``, 5.2): an S3-compatible endpoint on a free loopback port, in memory.

The journal store tests point boto3 at it through the variables boto3 itself reads (``AWS_ENDPOINT_URL``,
``AWS_ACCESS_KEY_ID``, ...), as a user would point it at MinIO or Ceph; testdata_kit has no setting of its own.
"""

from __future__ import annotations

import os
import unittest
from typing import Any

from tests._launch import ExternalServer, find_binary

#: The version .ci/run installs, in a venv of its own (moto pins its own boto3, werkzeug, flask...).
VERSION = "5.2.5"
#: moto accepts any keys; these are what the environment of a test names, and what it must never print.
ACCESS_KEY, SECRET_KEY = "testdata-access", "testdata-secret-do-not-print"


class MotoServer(ExternalServer):
    """``moto_server`` on a free loopback port; everything it stores is lost when it stops."""

    ready_path = "/"

    def __init__(self) -> None:
        super().__init__(find_binary("TESTDATA_MOTO_SERVER", "moto_server",
                                     f"pip install 'moto[server]=={VERSION}' (in a venv of its own)"))

    def prepare(self) -> list[str]:
        return [self.binary, "-H", "127.0.0.1", "-p", str(self.port)]

    def environment(self) -> dict[str, str]:
        """The variables that point boto3 (in this process or a child) at this server."""
        return {"AWS_ENDPOINT_URL": self.url, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}

    def client(self) -> Any:
        """A boto3 S3 client on this server, for setting up buckets and reading what a store wrote."""
        import boto3

        return boto3.client("s3", endpoint_url=self.url, aws_access_key_id=ACCESS_KEY,
                            aws_secret_access_key=SECRET_KEY, region_name="us-east-1")


def moto_case(test_class: type[unittest.TestCase]) -> MotoServer:
    """Start a moto server for *test_class* (stopped by a class cleanup) with its variables set for the class.

    Call it from ``setUpClass``; the environment is restored by the same cleanup.
    """
    server = MotoServer().__enter__()
    test_class.addClassCleanup(server.__exit__)
    saved = {name: os.environ.get(name) for name in server.environment()}
    os.environ.update(server.environment())

    def restore() -> None:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    test_class.addClassCleanup(restore)
    return server
