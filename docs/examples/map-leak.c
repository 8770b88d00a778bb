/* A program that maps a file again and again and never unmaps (lesson 1).
 *
 * Each mmap of a file makes one more entry in the process's list of
 * mappings (a line of /proc/self/maps), and Linux caps that list at
 * vm.max_map_count entries (65530 by default). The program runs out of
 * entries, with ENOMEM, after only a few hundred MiB of its 128 TiB of
 * address space. (Anonymous mappings that touch, with the same flags,
 * merge into one entry: that is why a heap's runs do not hit the cap.)
 *
 *   cc -o target/map-leak docs/examples/map-leak.c && target/map-leak
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void) {
    FILE *file = tmpfile(); /* a one-page file of our own, deleted at exit */
    long page = sysconf(_SC_PAGESIZE);
    if (!file || ftruncate(fileno(file), page) != 0) {
        perror("tmpfile");
        return 1;
    }
    long maps = 0;
    for (;;) {
        void *p = mmap(NULL, page, PROT_READ, MAP_SHARED, fileno(file), 0);
        if (p == MAP_FAILED) {
            printf("mmap number %ld failed: %s\n", maps + 1, strerror(errno));
            break;
        }
        maps++;
    }
    printf("%ld one-page maps made (%ld MiB) and never unmapped\n", maps, maps * page >> 20);
    FILE *limit = fopen("/proc/sys/vm/max_map_count", "r");
    long max_maps = 0;
    if (limit && fscanf(limit, "%ld", &max_maps) == 1)
        printf("vm.max_map_count is %ld\n", max_maps);
    return 0;
}
