// Store tests.
