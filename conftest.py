"""Project-wide test settings. Its presence puts the repository root on sys.path, so the tests
import `tests.helpers` and the sample tools (`samplekit`, not installed). The conformance plugin
itself is loaded through its pytest11 entry point (`pip install -e .`), never from here, so it is
registered once."""
