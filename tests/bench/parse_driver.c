/* parse_driver.c — the parse + normalise stage of cpecwatchd on one file,
 * for tests/bench/bench_parse: the file is streamed through
 * feed_parse_stream() (as the daemon's fetch body would be), and every
 * item's title and summary go through norm_text(), as matching does.
 * With -p only the parse runs (no normalisation). Prints "items N" so
 * that a run can be checked for having read it all.
 * Usage: parse_driver [-p] FILE */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feed.h"
#include "normalize.h"

struct totals {
    size_t items;
    bool normalise;
};

static ssize_t fd_read(void *ctx, char *buf, size_t len)
{
    ssize_t n;
    do
        n = read(*(int *)ctx, buf, len);
    while (n < 0 && errno == EINTR);
    return n;
}

static void on_item(struct feed_item *it, void *userdata)
{
    struct totals *t = userdata;
    t->items++;
    if (!t->normalise)
        return;
    free(norm_text(it->title ? it->title : ""));
    free(norm_text(it->summary ? it->summary : ""));
}

int main(int argc, char **argv)
{
    struct totals t = {.normalise = true};
    if (argc == 3 && !strcmp(argv[1], "-p")) {
        t.normalise = false;
        argv++, argc--;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: parse_driver [-p] FILE\n");
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "parse_driver: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    const struct feed_source src = {.read = fd_read, .ctx = &fd};
    char err[256], *title = NULL;
    int rc = feed_parse_stream(&src, NULL, NULL, on_item, &t, &title, err, sizeof err);
    close(fd);
    free(title);
    if (rc < 0) {
        fprintf(stderr, "parse_driver: %s: %s\n", argv[1], err);
        return 1;
    }
    printf("items %zu\n", t.items);
    return 0;
}
