/* What a block with pages of its own costs (lesson 6).
 *
 * For each size, three ways to get a block and fill it, timed over many
 * rounds: reusing one block (what a heap's free list gives), a fresh
 * mmap + fill + munmap each time (what lesson 6's big path does), and the
 * two system calls with a single page touched. Every other page of a fresh
 * mapping costs a page fault, in which the kernel finds a frame and zeroes
 * it. It prints ratios only: the times themselves depend on the machine.
 *
 *   cc -O2 -o target/fresh-pages docs/examples/fresh-pages.c && target/fresh-pages
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define BYTES_PER_SIZE (256UL << 20) /* bytes filled per size and way */

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* Keeps the compiler from dropping a fill nobody reads. */
static void keep(void *p) {
    __asm__ volatile("" : : "r"(p) : "memory");
}

/* Seconds per round: map `size` bytes, write `touched` of them, unmap. */
static double fresh(size_t size, size_t touched, long rounds) {
    double start = now();
    for (long i = 0; i < rounds; i++) {
        char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            exit(1);
        memset(p, (int)i, touched);
        keep(p);
        munmap(p, size);
    }
    return (now() - start) / rounds;
}

/* Seconds per round: write all `size` bytes of one block, again and again. */
static double reused(size_t size, long rounds) {
    char *p = malloc(size);
    memset(p, 0, size); /* its pages are in RAM from here on */
    double start = now();
    for (long i = 0; i < rounds; i++) {
        memset(p, (int)i, size);
        keep(p);
    }
    double seconds = (now() - start) / rounds;
    free(p);
    return seconds;
}

int main(void) {
    size_t sizes[] = {4096, 128 << 10, 1 << 20, 16 << 20};
    for (int k = 0; k < 4; k++) {
        size_t size = sizes[k];
        long rounds = (long)(BYTES_PER_SIZE / size);
        if (rounds > 20000)
            rounds = 20000;
        double reuse = reused(size, rounds);
        double mapped = fresh(size, size, rounds);
        double calls = fresh(size, 1, rounds);
        double share = calls < mapped ? 100 * calls / mapped : 100;
        printf("%9zu bytes: fresh pages cost %4.0fx a reused block; mmap, munmap and one fault are %3.0f%% of that\n",
               size, mapped / reuse, share);
    }
    return 0;
}
