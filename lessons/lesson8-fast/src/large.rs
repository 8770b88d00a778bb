//! Your large blocks, if your design treats them apart.
