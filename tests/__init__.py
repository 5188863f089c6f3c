import os

# pytest-asyncio (in the dev extra) warns in every pytest run that does not choose the event loop scope of async
# fixtures, and the warning is an error under -W error. The suites these tests run with pytest in temporary
# folders have no ini file of their own, so they get the choice through the environment they inherit.
os.environ.setdefault("PYTEST_ADDOPTS", "-o asyncio_default_fixture_loop_scope=function")
