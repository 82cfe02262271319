/* test_domxml.c: unit tests for lib/vts_domxml.c, the bounded scanner of
 * libvirt domain XML. Every input is copied into a buffer of exactly its
 * length, without a NUL, so that a read past the end shows under ASan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vts_domxml.h"

#define NS "http://vmtimesync.org/xmlns/domain/1.0"

#define AGENT_CHANNEL(target_attrs)                                                      \
    "    <channel type='unix'>\n"                                                        \
    "      <source mode='bind' path='/run/libvirt/qemu/channel/1-web-1/"                 \
    "org.qemu.guest_agent.0'/>\n"                                                        \
    "      <target " target_attrs "/>\n"                                                 \
    "      <alias name='channel0'/>\n"                                                   \
    "      <address type='virtio-serial' controller='0' bus='0' port='1'/>\n"            \
    "    </channel>\n"

#define CONNECTED_AGENT                                                                  \
    AGENT_CHANNEL("type='virtio' name='org.qemu.guest_agent.0' state='connected'")

#define SPICE_CHANNEL                                                                    \
    "    <channel type='spicevmc'>\n"                                                    \
    "      <target type='virtio' name='com.redhat.spice.0' state='disconnected'/>\n"     \
    "      <alias name='channel1'/>\n"                                                   \
    "      <address type='virtio-serial' controller='0' bus='0' port='2'/>\n"            \
    "    </channel>\n"

#define LIBOSINFO                                                                        \
    "    <libosinfo:libosinfo xmlns:libosinfo=\"http://libosinfo.org/xmlns/libvirt/"     \
    "domain/1.0\">\n"                                                                    \
    "      <libosinfo:os id=\"http://debian.org/debian/12\"/>\n"                         \
    "    </libosinfo:libosinfo>\n"

/* The live XML of a running guest as libvirt 9.0's `virsh dumpxml` prints
 * it, with @metadata inside <metadata> and @channels at the end of
 * <devices>. It has other <target> elements (disk, serial, console) at the
 * same depth as a channel's, to catch a scanner that looks too loosely. */
#define LIVE_XML(metadata, channels)                                                     \
    "<domain type='kvm' id='1'>\n"                                                       \
    "  <name>web-1</name>\n"                                                             \
    "  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>\n"                              \
    "  <metadata>\n" metadata "  </metadata>\n"                                          \
    "  <memory unit='KiB'>1048576</memory>\n"                                            \
    "  <currentMemory unit='KiB'>1048576</currentMemory>\n"                              \
    "  <vcpu placement='static'>1</vcpu>\n"                                              \
    "  <resource>\n"                                                                     \
    "    <partition>/machine</partition>\n"                                              \
    "  </resource>\n"                                                                    \
    "  <os>\n"                                                                           \
    "    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>\n"                          \
    "    <boot dev='hd'/>\n"                                                             \
    "  </os>\n"                                                                          \
    "  <features>\n"                                                                     \
    "    <acpi/>\n"                                                                      \
    "    <apic/>\n"                                                                      \
    "  </features>\n"                                                                    \
    "  <cpu mode='host-passthrough' check='none' migratable='on'/>\n"                    \
    "  <clock offset='utc'>\n"                                                           \
    "    <timer name='rtc' tickpolicy='catchup'/>\n"                                     \
    "    <timer name='pit' tickpolicy='delay'/>\n"                                       \
    "    <timer name='hpet' present='no'/>\n"                                            \
    "  </clock>\n"                                                                       \
    "  <on_poweroff>destroy</on_poweroff>\n"                                             \
    "  <on_reboot>restart</on_reboot>\n"                                                 \
    "  <on_crash>destroy</on_crash>\n"                                                   \
    "  <devices>\n"                                                                      \
    "    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n"                             \
    "    <disk type='file' device='disk'>\n"                                             \
    "      <driver name='qemu' type='qcow2'/>\n"                                         \
    "      <source file='/var/lib/libvirt/images/web-1.qcow2' index='1'/>\n"             \
    "      <backingStore/>\n"                                                            \
    "      <target dev='vda' bus='virtio'/>\n"                                           \
    "      <alias name='virtio-disk0'/>\n"                                               \
    "      <address type='pci' domain='0x0000' bus='0x04' slot='0x00' "                  \
    "function='0x0'/>\n"                                                                 \
    "    </disk>\n"                                                                      \
    "    <controller type='virtio-serial' index='0'>\n"                                  \
    "      <alias name='virtio-serial0'/>\n"                                             \
    "    </controller>\n"                                                                \
    "    <serial type='pty'>\n"                                                          \
    "      <source path='/dev/pts/3'/>\n"                                                \
    "      <target type='isa-serial' port='0'>\n"                                        \
    "        <model name='isa-serial'/>\n"                                               \
    "      </target>\n"                                                                  \
    "      <alias name='serial0'/>\n"                                                    \
    "    </serial>\n"                                                                    \
    "    <console type='pty' tty='/dev/pts/3'>\n"                                        \
    "      <source path='/dev/pts/3'/>\n"                                                \
    "      <target type='serial' port='0'/>\n"                                           \
    "      <alias name='serial0'/>\n"                                                    \
    "    </console>\n" channels "    <memballoon model='virtio'>\n"                      \
    "      <alias name='balloon0'/>\n"                                                   \
    "    </memballoon>\n"                                                                \
    "  </devices>\n"                                                                     \
    "  <seclabel type='dynamic' model='apparmor' relabel='yes'>\n"                       \
    "    <label>libvirt-4dea22b3-1d52-d8f3-2516-782e98ab3fa0</label>\n"                  \
    "  </seclabel>\n"                                                                    \
    "</domain>\n"

typedef struct {
    vts_domxml_info info;
    vts_error err;
    char *copy;
    char *big;
} domxml_fixture;

static int
setup(void **state)
{
    domxml_fixture *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    domxml_fixture *f = *state;

    free(f->copy);
    free(f->big);
    free(f);
    return 0;
}

/* Scan the first @len bytes of @xml from an exact-size copy. */
static int
scan_n(domxml_fixture *f, const char *xml, size_t len)
{
    free(f->copy);
    f->copy = malloc(len ? len : 1);
    assert_non_null(f->copy);
    memcpy(f->copy, xml, len);
    memset(&f->info, 0x5a, sizeof(f->info));
    vts_error_clear(&f->err);
    return vts_domxml_scan(f->copy, len, &f->info, &f->err);
}

static int
scan(domxml_fixture *f, const char *xml)
{
    return scan_n(f, xml, strlen(xml));
}

static void
expect_agent(domxml_fixture *f, const char *xml, vts_agent_state want_state)
{
    if (scan(f, xml) != 0)
        fail_msg("refused: %s", f->err.message);
    assert_true(f->info.has_agent_channel);
    assert_int_equal(f->info.agent_state, want_state);
}

static void
expect_no_agent(domxml_fixture *f, const char *xml)
{
    if (scan(f, xml) != 0)
        fail_msg("refused: %s", f->err.message);
    assert_false(f->info.has_agent_channel);
    assert_int_equal(f->info.agent_state, VTS_AGENT_STATE_UNKNOWN);
}

static void
expect_opted_out(domxml_fixture *f, const char *xml, bool want)
{
    if (scan(f, xml) != 0)
        fail_msg("refused: %s", f->err.message);
    if (f->info.opted_out != want)
        fail_msg("opted_out is %d, want %d", f->info.opted_out, want);
}

static void
expect_refused(domxml_fixture *f, const char *xml, size_t len)
{
    if (scan_n(f, xml, len) != -1)
        fail_msg("accepted %.*s", (int)(len > 200 ? 200 : len), xml);
    assert_int_equal(f->err.code, VTS_ERR_BAD_REPLY);
    assert_true(f->err.message[0] != '\0');
    /* Nothing half-filled is left behind. */
    assert_false(f->info.has_agent_channel);
    assert_false(f->info.opted_out);
}

#define REFUSED(f, xml) expect_refused((f), (xml), strlen(xml))

/* --- the guest agent channel ------------------------------------------ */

static void
test_domxml_live_xml_with_connected_agent(void **state)
{
    domxml_fixture *f = *state;

    expect_agent(f, LIVE_XML(LIBOSINFO, CONNECTED_AGENT), VTS_AGENT_STATE_CONNECTED);
    assert_false(f->info.opted_out);
}

static void
test_domxml_live_xml_with_disconnected_agent(void **state)
{
    expect_agent(*state,
                 LIVE_XML("", AGENT_CHANNEL("type='virtio' name='org.qemu.guest_agent.0' "
                                            "state='disconnected'")),
                 VTS_AGENT_STATE_DISCONNECTED);
}

static void
test_domxml_inactive_xml_has_agent_without_state(void **state)
{
    expect_agent(
        *state,
        LIVE_XML("", AGENT_CHANNEL("type='virtio' name='org.qemu.guest_agent.0'")),
        VTS_AGENT_STATE_UNKNOWN);
}

static void
test_domxml_unknown_state_value_is_unknown(void **state)
{
    expect_agent(*state,
                 LIVE_XML("", AGENT_CHANNEL("type='virtio' name='org.qemu.guest_agent.0' "
                                            "state='Connected'")),
                 VTS_AGENT_STATE_UNKNOWN);
}

static void
test_domxml_no_channel_means_no_agent(void **state)
{
    expect_no_agent(*state, LIVE_XML(LIBOSINFO, ""));
}

static void
test_domxml_other_channel_names_are_not_the_agent(void **state)
{
    domxml_fixture *f = *state;

    expect_no_agent(f, LIVE_XML("", SPICE_CHANNEL));
    expect_no_agent(
        f, LIVE_XML("", AGENT_CHANNEL("type='virtio' name='org.qemu.guest_agent.1' "
                                      "state='connected'")));
    expect_no_agent(
        f, LIVE_XML("", AGENT_CHANNEL("type='virtio' name='org.qemu.guest_agent' "
                                      "state='connected'")));
    expect_no_agent(
        f, LIVE_XML("", AGENT_CHANNEL("type='virtio' name='org.qemu.guest_agent.00' "
                                      "state='connected'")));
    expect_no_agent(f, LIVE_XML("", AGENT_CHANNEL("type='virtio' state='connected'")));
}

static void
test_domxml_agent_next_to_spice_channel_is_found(void **state)
{
    expect_agent(*state, LIVE_XML("", SPICE_CHANNEL CONNECTED_AGENT SPICE_CHANNEL),
                 VTS_AGENT_STATE_CONNECTED);
}

static void
test_domxml_agent_target_must_be_virtio(void **state)
{
    domxml_fixture *f = *state;

    expect_no_agent(f,
                    LIVE_XML("", AGENT_CHANNEL("type='xen' name='org.qemu.guest_agent.0' "
                                               "state='connected'")));
    expect_no_agent(f, LIVE_XML("", AGENT_CHANNEL("name='org.qemu.guest_agent.0' "
                                                  "state='connected'")));
}

static void
test_domxml_agent_target_outside_devices_channel_is_ignored(void **state)
{
    static const char target[] =
        "<target type='virtio' name='org.qemu.guest_agent.0' state='connected'/>";
    domxml_fixture *f = *state;
    char xml[512];

    /* Directly under <domain>. */
    snprintf(xml, sizeof(xml), "<domain type='kvm'>%s</domain>", target);
    expect_no_agent(f, xml);
    /* Under <domain><channel>, without <devices>. */
    snprintf(xml, sizeof(xml), "<domain><channel type='unix'>%s</channel></domain>",
             target);
    expect_no_agent(f, xml);
    /* Directly under <devices>. */
    snprintf(xml, sizeof(xml), "<domain><devices>%s</devices></domain>", target);
    expect_no_agent(f, xml);
    /* Under <devices><console>. */
    snprintf(xml, sizeof(xml),
             "<domain><devices><console>%s</console></devices></domain>", target);
    expect_no_agent(f, xml);
    /* One level too deep. */
    snprintf(xml, sizeof(xml),
             "<domain><devices><channel><x>%s</x></channel></devices></domain>", target);
    expect_no_agent(f, xml);
    /* Under <metadata><devices><channel>: depth 3 but not under <devices>. */
    snprintf(xml, sizeof(xml),
             "<domain><metadata><channel><x>%s</x></channel></metadata>"
             "</domain>",
             target);
    expect_no_agent(f, xml);
    /* After <devices> is closed. */
    snprintf(xml, sizeof(xml),
             "<domain><devices></devices><channel>%s</channel></domain>", target);
    expect_no_agent(f, xml);
    /* And the smallest shape that counts. */
    snprintf(xml, sizeof(xml),
             "<domain><devices><channel>%s</channel></devices></domain>", target);
    expect_agent(f, xml, VTS_AGENT_STATE_CONNECTED);
}

static void
test_domxml_fake_channel_in_comment_is_ignored(void **state)
{
    expect_no_agent(*state, LIVE_XML("", "    <!-- " CONNECTED_AGENT " -->\n"));
}

static void
test_domxml_fake_channel_in_cdata_is_ignored(void **state)
{
    domxml_fixture *f = *state;

    expect_no_agent(f, "<domain><description><![CDATA[<devices>" CONNECTED_AGENT
                       "</devices>]]></description><devices><![CDATA[" CONNECTED_AGENT
                       "]]></devices></domain>");
}

static void
test_domxml_comment_pi_and_doctype_do_not_hide_the_agent(void **state)
{
    expect_agent(*state,
                 "\xef\xbb\xbf<?xml version='1.0' encoding='UTF-8'?>\n"
                 "<!DOCTYPE domain>\n"
                 "<!-- don't \"quote\" me > -->\n" LIVE_XML(
                     "    <!-- a comment with an apostrophe: it's -->\n",
                     "    <?pi with ' quote?>\n" CONNECTED_AGENT),
                 VTS_AGENT_STATE_CONNECTED);
}

static void
test_domxml_quotes_in_text_do_not_hide_the_agent(void **state)
{
    expect_agent(*state,
                 "<domain><title>Bob's \"web\" VM</title><description>it's 5 > 4"
                 "</description><devices>" CONNECTED_AGENT "</devices></domain>",
                 VTS_AGENT_STATE_CONNECTED);
}

static void
test_domxml_gt_inside_attribute_values_does_not_end_the_tag(void **state)
{
    domxml_fixture *f = *state;

    /* A '>' in a <source> path before the target. */
    expect_agent(f,
                 "<domain><devices><channel type='unix'>"
                 "<source mode='bind' path='/tmp/a>b/<c>'/>"
                 "<target type='virtio' name='org.qemu.guest_agent.0' state='connected'/>"
                 "</channel></devices></domain>",
                 VTS_AGENT_STATE_CONNECTED);
    /* In the target itself, before and after the attributes we read. */
    expect_agent(f,
                 "<domain><devices><channel>"
                 "<target x='>' type='virtio' y=\"it's>\" name='org.qemu.guest_agent.0' "
                 "state='connected' z='/>'/>"
                 "</channel></devices></domain>",
                 VTS_AGENT_STATE_CONNECTED);
    /* A fake target hidden in an attribute value is not a tag. */
    expect_no_agent(f,
                    "<domain><devices><channel><alias name=\"<target type='virtio' "
                    "name='org.qemu.guest_agent.0'/>\"/></channel></devices></domain>");
}

static void
test_domxml_single_and_double_quotes_are_both_attribute_quotes(void **state)
{
    domxml_fixture *f = *state;

    expect_agent(
        f,
        LIVE_XML("", AGENT_CHANNEL("type=\"virtio\" name=\"org.qemu.guest_agent.0\" "
                                   "state=\"connected\"")),
        VTS_AGENT_STATE_CONNECTED);
    expect_agent(
        f,
        LIVE_XML("", AGENT_CHANNEL("type=\"virtio\" name='org.qemu.guest_agent.0' "
                                   "state=\"disconnected\"")),
        VTS_AGENT_STATE_DISCONNECTED);
    /* A quote of the other kind inside a value is just a character. */
    expect_agent(f,
                 LIVE_XML("", AGENT_CHANNEL("a=\"it's\" type='virtio' b='say \"hi\"' "
                                            "name='org.qemu.guest_agent.0'")),
                 VTS_AGENT_STATE_UNKNOWN);
}

static void
test_domxml_whitespace_around_equals_and_between_attributes(void **state)
{
    expect_agent(*state,
                 "<domain>\n<devices\n>\n<channel\ttype='unix'\n>"
                 "<target\n\ttype = 'virtio'\r\n  name\t=\t\"org.qemu.guest_agent.0\"  "
                 "state =\n'connected'  />"
                 "</channel></devices></domain>",
                 VTS_AGENT_STATE_CONNECTED);
}

static void
test_domxml_attribute_names_match_exactly(void **state)
{
    domxml_fixture *f = *state;

    /* Names that end or start like the ones we read are other attributes. */
    expect_no_agent(
        f, LIVE_XML("", AGENT_CHANNEL("type='virtio' xname='org.qemu.guest_agent.0'")));
    expect_no_agent(
        f, LIVE_XML("", AGENT_CHANNEL("type='virtio' names='org.qemu.guest_agent.0'")));
    expect_no_agent(f, LIVE_XML("", AGENT_CHANNEL("subtype='virtio' "
                                                  "name='org.qemu.guest_agent.0'")));
    /* name=... inside another attribute's value is not the name. */
    expect_no_agent(f,
                    LIVE_XML("", AGENT_CHANNEL("type='virtio' "
                                               "alt=\"name='org.qemu.guest_agent.0'\"")));
    /* Element names match exactly too. */
    expect_no_agent(f, "<domain><devices><channels><target type='virtio' "
                       "name='org.qemu.guest_agent.0'/></channels></devices></domain>");
    expect_no_agent(f, "<domain><devices><channel><targets type='virtio' "
                       "name='org.qemu.guest_agent.0'/></channel></devices></domain>");
}

static void
test_domxml_open_close_target_counts_like_empty_target(void **state)
{
    expect_agent(*state,
                 "<domain><devices><channel><target type='virtio' "
                 "name='org.qemu.guest_agent.0' state='connected'></target>"
                 "</channel></devices></domain>",
                 VTS_AGENT_STATE_CONNECTED);
}

/* --- the opt-out in <metadata> ---------------------------------------- */

static void
test_domxml_opt_out_element_is_found(void **state)
{
    domxml_fixture *f = *state;

    expect_opted_out(f,
                     LIVE_XML("    <vts:sync xmlns:vts=\"" NS "\" enabled=\"no\"/>\n",
                              CONNECTED_AGENT),
                     true);
    /* The agent is still reported: opting out is a separate fact. */
    assert_true(f->info.has_agent_channel);
}

static void
test_domxml_opt_out_with_any_prefix(void **state)
{
    domxml_fixture *f = *state;

    expect_opted_out(
        f, LIVE_XML("<vmtimesync:sync xmlns:vmtimesync='" NS "' enabled='no'/>", ""),
        true);
    expect_opted_out(f, LIVE_XML("<a:sync xmlns:a='" NS "' enabled='no'/>", ""), true);
    expect_opted_out(
        f, LIVE_XML(LIBOSINFO "<x-y.z:sync enabled='no' xmlns:x-y.z='" NS "'/>", ""),
        true);
    /* With content, as virsh metadata may write it. */
    expect_opted_out(f, LIVE_XML("<v:sync xmlns:v='" NS "' enabled='no'>\n</v:sync>", ""),
                     true);
}

static void
test_domxml_opt_out_with_a_long_prefix(void **state)
{
    /* A 100-character prefix is as valid as a short one. */
#define P100                                                                             \
    "p123456789p123456789p123456789p123456789p123456789"                                 \
    "p123456789p123456789p123456789p123456789p123456789"
    expect_opted_out(
        *state, LIVE_XML("<" P100 ":sync xmlns:" P100 "='" NS "' enabled='no'/>", ""),
        true);
#undef P100
}

static void
test_domxml_opt_out_in_default_namespace(void **state)
{
    /* <sync xmlns="NS"/> is in our namespace as much as a prefixed one. */
    expect_opted_out(*state, LIVE_XML("<sync xmlns='" NS "' enabled='no'/>", ""), true);
}

static void
test_domxml_opt_out_with_namespace_declared_on_metadata(void **state)
{
    /* The prefix may be declared on an ancestor, as `virsh edit` keeps it
     * when the user writes it there. */
    expect_opted_out(*state,
                     "<domain><metadata xmlns:vts='" NS "'><vts:sync enabled='no'/>"
                     "</metadata></domain>",
                     true);
}

static void
test_domxml_opt_out_in_wrong_namespace_is_ignored(void **state)
{
    domxml_fixture *f = *state;

    expect_opted_out(
        f, LIVE_XML("<vts:sync xmlns:vts='http://example.org/other' enabled='no'/>", ""),
        false);
    expect_opted_out(f, LIVE_XML("<vts:sync xmlns:vts='" NS "/' enabled='no'/>", ""),
                     false);
    expect_opted_out(
        f,
        LIVE_XML("<vts:sync xmlns:vts='http://vmtimesync.org/xmlns/domain/2.0' "
                 "enabled='no'/>",
                 ""),
        false);
    /* The namespace is bound to another prefix than the element's. */
    expect_opted_out(f, LIVE_XML("<vts:sync xmlns:other='" NS "' enabled='no'/>", ""),
                     false);
    /* No namespace at all. */
    expect_opted_out(f, LIVE_XML("<sync enabled='no'/>", ""), false);
}

static void
test_domxml_opt_out_needs_enabled_no(void **state)
{
    domxml_fixture *f = *state;

    expect_opted_out(f, LIVE_XML("<vts:sync xmlns:vts='" NS "' enabled='yes'/>", ""),
                     false);
    expect_opted_out(f, LIVE_XML("<vts:sync xmlns:vts='" NS "'/>", ""), false);
    expect_opted_out(
        f, LIVE_XML("<vts:sync xmlns:vts='" NS "' enabled='no-thanks'/>", ""), false);
    expect_opted_out(f, LIVE_XML("<vts:sync xmlns:vts='" NS "' disabled='no'/>", ""),
                     false);
}

static void
test_domxml_opt_out_element_name_must_be_sync(void **state)
{
    domxml_fixture *f = *state;

    expect_opted_out(f, LIVE_XML("<vts:syncx xmlns:vts='" NS "' enabled='no'/>", ""),
                     false);
    expect_opted_out(f, LIVE_XML("<vts:sync2 xmlns:vts='" NS "' enabled='no'/>", ""),
                     false);
    expect_opted_out(f, LIVE_XML("<vts:config xmlns:vts='" NS "' enabled='no'/>", ""),
                     false);
    expect_opted_out(f, LIVE_XML("<vts: xmlns:vts='" NS "' enabled='no'/>", ""), false);
}

static void
test_domxml_opt_out_outside_metadata_is_ignored(void **state)
{
    domxml_fixture *f = *state;

    /* Under <domain>, beside <metadata>. */
    expect_opted_out(
        f, "<domain><metadata/><vts:sync xmlns:vts='" NS "' enabled='no'/></domain>",
        false);
    /* Nested inside another application's metadata element. */
    expect_opted_out(
        f,
        LIVE_XML("<app:x xmlns:app='http://example.org/app'><vts:sync xmlns:vts='" NS
                 "' enabled='no'/></app:x>",
                 ""),
        false);
    /* In <description> text and in a comment. */
    expect_opted_out(
        f,
        "<domain><description>&lt;vts:sync xmlns:vts='" NS
        "' enabled='no'/&gt;</description><metadata><!-- <vts:sync xmlns:vts='" NS
        "' enabled='no'/> --></metadata></domain>",
        false);
    /* A <metadata> that is not the domain's. */
    expect_opted_out(f,
                     "<domain><devices><metadata><vts:sync xmlns:vts='" NS
                     "' enabled='no'/></metadata></devices></domain>",
                     false);
}

/* --- bad input -------------------------------------------------------- */

static void
test_domxml_empty_input_is_refused(void **state)
{
    domxml_fixture *f = *state;

    REFUSED(f, "");
    memset(&f->info, 0x5a, sizeof(f->info));
    assert_int_equal(vts_domxml_scan(NULL, 0, &f->info, &f->err), -1);
    assert_int_equal(f->err.code, VTS_ERR_BAD_REPLY);
    assert_false(f->info.has_agent_channel);
}

static void
test_domxml_text_without_domain_is_refused(void **state)
{
    domxml_fixture *f = *state;

    REFUSED(f, "hello, world");
    REFUSED(f, "   \n");
    REFUSED(f, "<?xml version='1.0'?><!-- only a comment -->");
    REFUSED(f, "<network><name>default</name></network>");
    REFUSED(f, "<domainx/>");
    REFUSED(f, "<capabilities><domain/></capabilities>");
    /* A second root element after </domain>. */
    REFUSED(f, "<domain></domain><network/>");
}

static void
test_domxml_truncated_inside_a_tag_is_refused(void **state)
{
    static const char xml[] = LIVE_XML("", CONNECTED_AGENT);
    domxml_fixture *f = *state;
    const char *cut = strstr(xml, "name='org.qemu.gu");

    assert_non_null(cut);
    expect_refused(f, xml, (size_t)(cut - xml) + 17);
    /* Inside an unterminated quoted value, comment and CDATA. */
    REFUSED(f, "<domain type='kvm>");
    REFUSED(f, "<domain><!-- never closed");
    REFUSED(f, "<domain><![CDATA[ never closed");
    REFUSED(f, "<domain><?pi never closed");
    REFUSED(f, "<");
    REFUSED(f, "<domain><");
    REFUSED(f, "<domain></");
    REFUSED(f, "<domain><>");
}

static void
test_domxml_every_prefix_of_live_xml_is_safe(void **state)
{
    static const char xml[] = LIVE_XML(
        "<vts:sync xmlns:vts='" NS "' enabled='no'/>" LIBOSINFO, CONNECTED_AGENT);
    domxml_fixture *f = *state;
    size_t len;

    for (len = 0; len <= sizeof(xml) - 1; len++) {
        int rc = scan_n(f, xml, len);

        if (rc == -1)
            assert_int_equal(f->err.code, VTS_ERR_BAD_REPLY);
        else {
            assert_int_equal(rc, 0);
        }
    }
    /* The whole text is the full answer. */
    assert_true(f->info.has_agent_channel);
    assert_true(f->info.opted_out);
}

/* Append @s at *@p. */
static void
put(char **p, const char *s)
{
    size_t n = strlen(s);

    memcpy(*p, s, n);
    *p += n;
}

/* "<domain>" then @opens "<a>", @inner, and the closing tags. */
static char *
nested_xml(size_t opens, const char *inner)
{
    char *xml = malloc(8 + opens * 7 + strlen(inner) + 9 + 1);
    char *p = xml;
    size_t i;

    if (!xml)
        abort();
    put(&p, "<domain>");
    for (i = 0; i < opens; i++)
        put(&p, "<a>");
    put(&p, inner);
    for (i = 0; i < opens; i++)
        put(&p, "</a>");
    put(&p, "</domain>");
    *p = '\0';
    return xml;
}

static void
test_domxml_nesting_of_64_is_accepted_and_65_refused(void **state)
{
    domxml_fixture *f = *state;

    /* <domain> plus 63 elements: 64 open elements. */
    f->big = nested_xml(63, "<empty/>");
    assert_int_equal(scan(f, f->big), 0);
    free(f->big);

    f->big = nested_xml(64, "");
    expect_refused(f, f->big, strlen(f->big));
    assert_non_null(strstr(f->err.message, "64"));
    free(f->big);

    f->big = nested_xml(100000, "");
    expect_refused(f, f->big, strlen(f->big));
}

/* A small deterministic generator, so that a failure can be replayed. */
static uint32_t
lcg_next(uint32_t *seed)
{
    *seed = *seed * 1664525u + 1013904223u;
    return *seed >> 8;
}

static void
test_domxml_random_bytes_never_crash(void **state)
{
    /* Bytes that steer the scanner, then anything at all. */
    static const char alphabet[] = "<<<>>>///''\"\"==  \n!?-[]CDATAdomainchannel:target";
    domxml_fixture *f = *state;
    uint32_t seed = 20240601;
    char buf[600];
    int round;

    for (round = 0; round < 20000; round++) {
        size_t len = lcg_next(&seed) % sizeof(buf), i;
        bool steer = round % 2 == 0;
        int rc;

        i = 0;
        if (round % 3 == 0 && len >= 8) {
            memcpy(buf, "<domain>", 8);
            i = 8;
        }
        for (; i < len; i++) {
            uint32_t r = lcg_next(&seed);

            buf[i] = steer ? alphabet[r % (sizeof(alphabet) - 1)] : (char)(r & 0xff);
        }
        rc = scan_n(f, buf, len);
        if (rc != 0 && rc != -1)
            fail_msg("round %d: rc %d", round, rc);
        if (rc == -1 && f->err.code != VTS_ERR_BAD_REPLY)
            fail_msg("round %d: code %s", round, vts_error_code_name(f->err.code));
    }
}

static void
test_domxml_scan_resets_info_between_calls(void **state)
{
    domxml_fixture *f = *state;
    vts_domxml_info info;

    assert_int_equal(
        vts_domxml_scan(
            LIVE_XML("<v:sync xmlns:v='" NS "' enabled='no'/>", CONNECTED_AGENT),
            strlen(LIVE_XML("<v:sync xmlns:v='" NS "' enabled='no'/>", CONNECTED_AGENT)),
            &info, &f->err),
        0);
    assert_true(info.has_agent_channel && info.opted_out);
    assert_int_equal(vts_domxml_scan("<domain/>", 9, &info, &f->err), 0);
    assert_false(info.has_agent_channel);
    assert_false(info.opted_out);
    assert_int_equal(info.agent_state, VTS_AGENT_STATE_UNKNOWN);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_domxml_live_xml_with_connected_agent),
        T(test_domxml_live_xml_with_disconnected_agent),
        T(test_domxml_inactive_xml_has_agent_without_state),
        T(test_domxml_unknown_state_value_is_unknown),
        T(test_domxml_no_channel_means_no_agent),
        T(test_domxml_other_channel_names_are_not_the_agent),
        T(test_domxml_agent_next_to_spice_channel_is_found),
        T(test_domxml_agent_target_must_be_virtio),
        T(test_domxml_agent_target_outside_devices_channel_is_ignored),
        T(test_domxml_fake_channel_in_comment_is_ignored),
        T(test_domxml_fake_channel_in_cdata_is_ignored),
        T(test_domxml_comment_pi_and_doctype_do_not_hide_the_agent),
        T(test_domxml_quotes_in_text_do_not_hide_the_agent),
        T(test_domxml_gt_inside_attribute_values_does_not_end_the_tag),
        T(test_domxml_single_and_double_quotes_are_both_attribute_quotes),
        T(test_domxml_whitespace_around_equals_and_between_attributes),
        T(test_domxml_attribute_names_match_exactly),
        T(test_domxml_open_close_target_counts_like_empty_target),
        T(test_domxml_opt_out_element_is_found),
        T(test_domxml_opt_out_with_any_prefix),
        T(test_domxml_opt_out_with_a_long_prefix),
        T(test_domxml_opt_out_in_default_namespace),
        T(test_domxml_opt_out_with_namespace_declared_on_metadata),
        T(test_domxml_opt_out_in_wrong_namespace_is_ignored),
        T(test_domxml_opt_out_needs_enabled_no),
        T(test_domxml_opt_out_element_name_must_be_sync),
        T(test_domxml_opt_out_outside_metadata_is_ignored),
        T(test_domxml_empty_input_is_refused),
        T(test_domxml_text_without_domain_is_refused),
        T(test_domxml_truncated_inside_a_tag_is_refused),
        T(test_domxml_every_prefix_of_live_xml_is_safe),
        T(test_domxml_nesting_of_64_is_accepted_and_65_refused),
        T(test_domxml_random_bytes_never_crash),
        T(test_domxml_scan_resets_info_between_calls),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
