//! Where your heap gets runs of pages, if it carves them itself.
