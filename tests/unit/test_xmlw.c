/* test_xmlw.c - XML escaping and elements (common/xmlw.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "xmlw.h"

static void text_escapes(void **state)
{
    (void)state;
    struct buf b;

    buf_init(&b, 0);
    xmlw_text(&b, "a<b>&\"c'\x01\n", 0);
    xmlw_text(&b, NULL, 0);
    assert_int_equal(b.len, strlen("a&lt;b&gt;&amp;&quot;c&apos;\x01\n"));
    assert_memory_equal(b.ptr, "a&lt;b&gt;&amp;&quot;c&apos;\x01\n", b.len);
    buf_free(&b);

    buf_init(&b, 0);
    xmlw_text(&b, "a<\x01\n\x1f", XMLW_CTRL);
    assert_int_equal(b.len, strlen("a&lt;&#x1;&#xA;&#x1F;"));
    assert_memory_equal(b.ptr, "a&lt;&#x1;&#xA;&#x1F;", b.len);
    buf_free(&b);
}

static void elements(void **state)
{
    (void)state;
    struct buf b;

    buf_init(&b, 0);
    xmlw_elem(&b, "Key", "x&y", XMLW_CTRL);
    xmlw_elem(&b, "Empty", NULL, 0);
    buf_putc(&b, '\0');
    assert_string_equal(b.ptr, "<Key>x&amp;y</Key><Empty></Empty>");
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_escapes),
        cmocka_unit_test(elements),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
