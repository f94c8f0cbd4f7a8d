#include <stdio.h>
#include <stdlib.h>

#define CAPACITY 16

/* A growable buffer of ints. */
struct buffer {
    int *data;
    size_t len;
};

typedef struct {
    double x, y;
} point;

static int counter = 0;

/* Appends a value, growing the buffer when full. */
int buffer_push(struct buffer *b, int value)
{
    b->data = realloc(b->data, (b->len + 1) * sizeof(int));
    b->data[b->len++] = value;
    return 0;
}

static char *
name_of(int code)
{
    return code ? "error" : "ok";
}

int main(void) {
    struct buffer b = {0};
    buffer_push(&b, 1);
    printf("%zu\n", b.len);
    return 0;
}
