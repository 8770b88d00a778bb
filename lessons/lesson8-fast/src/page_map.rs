//! Your way to find a block's size from its address, if your design needs one.
