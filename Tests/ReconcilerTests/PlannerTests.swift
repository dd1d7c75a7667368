// Reconciler tests.
