/* glibc's chunks from the outside (lessons 3 and 5).
 *
 * glibc puts two words in front of every block on x86-64: prev_size, then
 * the chunk's size with flags in its low bits (bit 0, PREV_INUSE: the chunk
 * before this one is in use). But prev_size means something only while the
 * chunk before is free: while it is in use, those 8 bytes are the end of
 * ITS payload. So a chunk costs 8 bytes of header, not 16, and free can
 * still find the chunk before: a boundary tag (Knuth), written only when it
 * is needed.
 *
 *   cc -o target/glibc-chunks docs/examples/glibc-chunks.c && target/glibc-chunks
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

/* The two words in front of a block: [0] prev_size, [1] size and flags. */
static size_t *words_before(void *block) {
    return (size_t *)block - 2;
}

int main(void) {
    char *a = malloc(24), *b = malloc(24);
    printf("malloc(24): usable size %zu; the next block starts %td bytes on\n",
           malloc_usable_size(a), b - a);
    printf("size word in front of b: %#zx (chunk of %zu bytes, PREV_INUSE %zu)\n",
           words_before(b)[1], words_before(b)[1] & ~(size_t)7, words_before(b)[1] & 1);
    printf("b's prev_size field is a's last 8 bytes: %s\n",
           (char *)&words_before(b)[0] == a + 16 ? "yes" : "no");

    /* Blocks above tcache's 1032 bytes go to the bins when freed, which
       write the boundary tag; the third block keeps the second off the top. */
    char *c = malloc(2000), *d = malloc(2000), *guard = malloc(2000);
    printf("before free(c): d's prev_size %zu, size word %#zx\n", words_before(d)[0],
           words_before(d)[1]);
    free(c);
    printf("after free(c):  d's prev_size %zu, size word %#zx\n", words_before(d)[0],
           words_before(d)[1]);
    free(guard);
    free(d);
    free(b);
    free(a);
    return 0;
}
