"""pytest plugin: runs testdata_kit's module and run scopes, and prints the leak summary."""
