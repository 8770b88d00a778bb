/* What munmap(2) accepts (lessons 2 and 6).
 *
 * POSIX: munmap removes whatever mappings lie in [addr, addr + len); a range
 * with nothing mapped in it is no error, and neither is a range that covers
 * part of a mapping. It fails only for arguments no range can have: an
 * address that is not page aligned, a length of 0, a range outside the
 * process's address space (EINVAL).
 *
 *   cc -o target/munmap docs/examples/munmap.c && target/munmap
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Prints what one munmap call returned, and errno's name when it failed. */
static void show(const char *call, int rc) {
    if (rc == 0)
        printf("%-44s ->  0\n", call);
    else
        printf("%-44s -> %d %s\n", call, rc, strerror(errno));
}

int main(void) {
    long page = sysconf(_SC_PAGESIZE);
    char *p = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    show("munmap(p + 1, page)     address not aligned", munmap(p + 1, page));
    show("munmap(p, 0)            length 0", munmap(p, 0));
    show("munmap(p + page, page)  page 2 of the 4", munmap(p + page, page));
    show("munmap(p + page, page)  page 2 again", munmap(p + page, page));
    show("munmap(p, 4 * page)     all 4, page 2 gone", munmap(p, 4 * page));
    show("munmap(p, 4 * page)     all 4 again", munmap(p, 4 * page));
    show("munmap(-page, page)     not user space", munmap((char *)-page, page));
    return 0;
}
