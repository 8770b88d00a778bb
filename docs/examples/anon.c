/* What an anonymous mapping is made of (lesson 2).
 *
 * Maps 64 MiB of private anonymous memory, the way lesson 2's MmapPages
 * does, and shows after each step the new line in /proc/self/maps and the
 * process's virtual size and resident set (VmSize and VmRSS in
 * /proc/self/status). Reading a fresh page costs no RAM (it maps the
 * kernel's shared zero page); writing it does.
 *
 *   cc -o target/anon docs/examples/anon.c && target/anon
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MAPPED_BYTES (64UL << 20)

/* Prints the VmSize and VmRSS lines of /proc/self/status, after `when`. */
static void show_sizes(const char *when) {
    FILE *status = fopen("/proc/self/status", "r");
    char line[256], virt[64] = "?", res[64] = "?";
    while (status && fgets(line, sizeof line, status)) {
        sscanf(line, "VmSize: %63[^\n]", virt);
        sscanf(line, "VmRSS: %63[^\n]", res);
    }
    if (status)
        fclose(status);
    printf("%-26s virtual %12s   resident %12s\n", when, virt, res);
}

/* Prints the line of /proc/self/maps whose range starts at `start`. */
static void show_maps_line(const char *start) {
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[512];
    while (maps && fgets(line, sizeof line, maps))
        if (strtoul(line, NULL, 16) == (unsigned long)start)
            printf("its line in /proc/self/maps: %s", line);
    if (maps)
        fclose(maps);
}

int main(void) {
    /* Flags are bits: OR-ing them asks for all of them at once. */
    printf("PROT_READ | PROT_WRITE      = %#x | %#x  = %#x\n", PROT_READ, PROT_WRITE,
           PROT_READ | PROT_WRITE);
    printf("MAP_PRIVATE | MAP_ANONYMOUS = %#x | %#x = %#x\n", MAP_PRIVATE, MAP_ANONYMOUS,
           MAP_PRIVATE | MAP_ANONYMOUS);

    show_sizes("before mmap");
    char *p = mmap(NULL, MAPPED_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    show_maps_line(p);
    show_sizes("after mmap of 64 MiB");

    unsigned long sum = 0;
    for (size_t i = 0; i < MAPPED_BYTES; i += 4096)
        sum += (unsigned char)p[i]; /* every byte reads 0 */
    show_sizes("after reading each page");

    for (size_t i = 0; i < MAPPED_BYTES; i += 4096)
        p[i] = 1; /* the first write to a page gives it a frame of its own */
    show_sizes("after writing each page");

    munmap(p, MAPPED_BYTES);
    show_sizes("after munmap");
    return sum == 0 ? 0 : 1;
}
