/* Where glibc's malloc gets its memory (lesson 2).
 *
 * Small blocks come from the main arena, a heap grown with brk(2) just past
 * the program's data; a block of M_MMAP_THRESHOLD (128 KiB by default) or
 * more gets an mmap(2) of its own. sbrk(0) reads the program break, the end
 * of that heap. Run it under strace to see the system calls:
 *
 *   cc -o target/brk docs/examples/brk.c && strace -e trace=brk,mmap,munmap target/brk
 */
#define _DEFAULT_SOURCE /* sbrk */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Prints where `block` is, and how far the break moved since `*brk_before`. */
static void show(const char *what, void *block, char **brk_before) {
    char *brk_now = sbrk(0);
    fprintf(stderr, "%-14s block at %14p; the break moved by %7td bytes\n", what, block,
            brk_now - *brk_before);
    *brk_before = brk_now;
}

int main(void) {
    char *brk = sbrk(0);
    fprintf(stderr, "program break at the start: %p\n", (void *)brk);
    void *small = malloc(100);
    show("malloc(100)", small, &brk);
    void *more = malloc(100);
    show("malloc(100)", more, &brk);
    void *big = malloc(200000);
    show("malloc(200000)", big, &brk);
    free(big); /* an mmap'd block is unmapped at once */
    free(more);
    free(small);
    return 0;
}
