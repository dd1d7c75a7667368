// The WorkOS simulator; filled in by the Foundation issue.
