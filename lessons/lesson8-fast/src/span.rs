//! Your heap's bookkeeping, if your design keeps it apart from the blocks.
