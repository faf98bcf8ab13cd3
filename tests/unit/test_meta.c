/* meta: ISMRMRD meta containers. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gt/err.h"
#include "gt/meta.h"

static gt_meta *roundtrip(const gt_meta *m, char **text)
{
    char *xml = NULL;
    size_t len = 0;
    gt_meta *r = NULL;
    cr_assert_eq(gt_meta_serialize(m, &xml, &len), 0, "%s", gt_err_detail());
    cr_assert_eq(strlen(xml), len);
    cr_assert_eq(gt_meta_parse(xml, len, &r), 0, "%s\n%s", gt_err_detail(), xml);
    if (text)
        *text = xml;
    else
        free(xml);
    return r;
}

Test(meta, round_trip_special_characters_and_multiple_values)
{
    gt_meta *m = NULL, *r;
    char *xml;
    cr_assert_eq(gt_meta_create(&m), 0);
    cr_assert_eq(gt_meta_set_str(m, "DataRole", "Image"), 0);
    cr_assert_eq(gt_meta_append_str(m, "ImageComments", "GT_Image"), 0);
    cr_assert_eq(gt_meta_append_str(m, "ImageComments", "a<b & c>d \"q\" 'x'"), 0);
    cr_assert_eq(gt_meta_append_str(m, "ImageComments", ""), 0);
    cr_assert_eq(gt_meta_set_str(m, "we<ird&name>", "line1\nline2\r\tend  "), 0);
    cr_assert_eq(gt_meta_set_long(m, "ImageNumber", -42), 0);
    cr_assert_eq(gt_meta_append_double(m, "Window", 0.1), 0);
    cr_assert_eq(gt_meta_append_double(m, "Window", 1e300), 0);
    cr_assert_eq(gt_meta_set_str(m, "Unicode", "\xc3\xa9t\xc3\xa9"), 0);

    r = roundtrip(m, &xml);
    cr_assert_eq(strncmp(xml, "<?xml version=\"1.0\"?>", 21), 0, "%s", xml);
    cr_assert_not_null(strstr(xml, "<value>a&lt;b &amp; c&gt;d \"q\" 'x'</value>"), "%s", xml);
    cr_assert_eq(gt_meta_count(r), 6);
    for (size_t i = 0; i < gt_meta_count(m); i++) {
        const char *name = gt_meta_name_at(m, i);
        cr_assert_str_eq(gt_meta_name_at(r, i), name, "order kept");
        cr_assert_eq(gt_meta_len(r, name), gt_meta_len(m, name));
        for (size_t j = 0; j < gt_meta_len(m, name); j++)
            cr_assert_str_eq(gt_meta_str(r, name, j), gt_meta_str(m, name, j), "%s[%zu]", name, j);
    }
    cr_assert_eq(gt_meta_len(r, "ImageComments"), 3);
    cr_assert_str_eq(gt_meta_str(r, "ImageComments", 2), "");
    cr_assert_str_eq(gt_meta_str(r, "we<ird&name>", 0), "line1\nline2\r\tend  ");
    cr_assert_eq(gt_meta_long(r, "ImageNumber", 0, 0), -42);
    cr_assert_eq(gt_meta_double(r, "Window", 0, 0), 0.1);
    cr_assert_eq(gt_meta_double(r, "Window", 1, 0), 1e300);
    free(xml);
    gt_meta_destroy(r);
    gt_meta_destroy(m);
}

Test(meta, number_formatting)
{
    gt_meta *m = NULL;
    cr_assert_eq(gt_meta_create(&m), 0);
    const double vals[] = {0.5, 1.0, 0.1, 3.14159, 1.0 / 3.0, -2.5e-7, 123456789.0, 0.0};
    const char *want[] = {"0.5",      "1",         "0.1", "3.14159", "0.3333333333333333",
                          "-2.5e-07", "123456789", "0"};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        cr_assert_eq(gt_meta_append_double(m, "d", vals[i]), 0);
        cr_assert_str_eq(gt_meta_str(m, "d", i), want[i]);
        cr_assert_eq(strtod(gt_meta_str(m, "d", i), NULL), vals[i]);
    }
    cr_assert_eq(gt_meta_set_long(m, "l", 9223372036854775807L), 0);
    cr_assert_str_eq(gt_meta_str(m, "l", 0), "9223372036854775807");
    cr_assert_eq(gt_meta_long(m, "l", 0, 0), 9223372036854775807L);
    cr_assert_eq(gt_meta_set_double(m, "nan", NAN), 0);
    cr_assert(isnan(gt_meta_double(m, "nan", 0, 0)));
    gt_meta_destroy(m);
}

Test(meta, accessors_defaults_set_and_remove)
{
    gt_meta *m = NULL;
    cr_assert_eq(gt_meta_create(&m), 0);
    cr_assert_eq(gt_meta_append_long(m, "a", 1), 0);
    cr_assert_eq(gt_meta_append_long(m, "a", 2), 0);
    cr_assert_eq(gt_meta_set_str(m, "b", "x"), 0);
    cr_assert_eq(gt_meta_set_long(m, "a", 7), 0); /* replaces values, keeps position */
    cr_assert_eq(gt_meta_len(m, "a"), 1);
    cr_assert_str_eq(gt_meta_name_at(m, 0), "a");
    cr_assert_eq(gt_meta_long(m, "a", 0, -1), 7);
    cr_assert_eq(gt_meta_long(m, "a", 1, -1), -1);
    cr_assert_eq(gt_meta_long(m, "b", 0, -1), -1, "not a number");
    cr_assert_eq(gt_meta_double(m, "b", 0, 2.5), 2.5);
    cr_assert_eq(gt_meta_long(m, "zz", 0, 5), 5);
    cr_assert_null(gt_meta_str(m, "zz", 0));
    cr_assert_eq(gt_meta_len(m, "zz"), 0);
    cr_assert_null(gt_meta_name_at(m, 2));
    cr_assert_eq(gt_meta_set_double(m, "f", 2.75), 0);
    cr_assert_eq(gt_meta_long(m, "f", 0, 0), 2, "double read as long truncates");
    cr_assert_eq(gt_meta_remove(m, "a"), 0);
    cr_assert_eq(gt_meta_remove(m, "a"), 0, "absent name");
    cr_assert_eq(gt_meta_count(m), 2);
    cr_assert_str_eq(gt_meta_name_at(m, 0), "b");
    cr_assert_eq(gt_meta_set_str(m, NULL, "x"), GT_EINVAL);
    cr_assert_eq(gt_meta_append_str(m, "x", NULL), GT_EINVAL);

    gt_meta *c = NULL;
    cr_assert_eq(gt_meta_clone(m, &c), 0);
    cr_assert_eq(gt_meta_set_str(m, "b", "changed"), 0);
    cr_assert_str_eq(gt_meta_str(c, "b", 0), "x", "clone is deep");
    cr_assert_eq(gt_meta_count(c), 2);
    gt_meta_destroy(c);
    gt_meta_destroy(m);
}

Test(meta, parse_ismrmrd_text)
{
    const char x[] =
        "<?xml version=\"1.0\"?>\n<ismrmrdMeta>\n\t<meta>\n\t\t<name>GADGETRON_DataRole"
        "</name>\n\t\t<value>Image</value>\n\t\t<value>GFactor</value>\n\t</meta>\n"
        "\t<meta><name>Empty</name></meta>\n"
        "\t<meta><name>GADGETRON_DataRole</name><value>More</value></meta>\n"
        "\t<meta><name>n</name><value><![CDATA[<raw>]]></value></meta>\n"
        "</ismrmrdMeta>\n\0";
    gt_meta *m = NULL;
    cr_assert_eq(gt_meta_parse(x, sizeof x, &m), 0, "%s", gt_err_detail());
    cr_assert_eq(gt_meta_count(m), 2, "a <meta> without values adds nothing");
    cr_assert_eq(gt_meta_len(m, "GADGETRON_DataRole"), 3);
    cr_assert_str_eq(gt_meta_str(m, "GADGETRON_DataRole", 1), "GFactor");
    cr_assert_str_eq(gt_meta_str(m, "GADGETRON_DataRole", 2), "More");
    cr_assert_str_eq(gt_meta_str(m, "n", 0), "<raw>");
    gt_meta_destroy(m);
}

Test(meta, errors)
{
    gt_meta *m = NULL;
    const char *nameless = "<ismrmrdMeta><meta><value>1</value></meta></ismrmrdMeta>";
    cr_assert_eq(gt_meta_parse(nameless, strlen(nameless), &m), GT_EDATA);
    cr_assert_null(m);
    cr_assert_eq(gt_meta_parse("<other/>", 8, &m), GT_EDATA);
    cr_assert_eq(gt_meta_parse("<ismrmrdMeta>", 13, &m), GT_EXML);
    cr_assert_eq(gt_meta_parse("", 0, &m), GT_EXML);

    cr_assert_eq(gt_meta_create(&m), 0);
    cr_assert_eq(gt_meta_set_str(m, "bell", "\a"), 0);
    char *xml = (char *)1;
    cr_assert_eq(gt_meta_serialize(m, &xml, NULL), GT_EINVAL);
    cr_assert_null(xml);
    gt_meta_destroy(m);

    cr_assert_eq(gt_meta_create(&m), 0);
    cr_assert_eq(gt_meta_serialize(m, &xml, NULL), 0);
    cr_assert_str_eq(xml, "<?xml version=\"1.0\"?>\n<ismrmrdMeta></ismrmrdMeta>\n");
    free(xml);
    gt_meta_destroy(m);
}
