/* snowsignal - UDP broadcast relay
 * gen-corpus.c: writes the seed corpora of the frame and reassembly fuzz
 * targets (tests/fuzz/corpus/{frame,reassembly}) with the unit tests'
 * frame builder.  Not built by make: the seeds are committed, and this is
 * how to make them again (see tests/fuzz/README).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <config.h>

#include <string.h>

#include "frame.h"
#include "frame-builder.h"

/* Router alert (copied), a non-copied option, a NOP: 12 bytes. */
static const uint8_t options[] = { 0x94, 0x04, 0x00, 0x00, 0x07, 0x07, 0x04,
                                   0x00, 0x00, 0x00, 0x00, 0x01 };

static const char *top;

static void
save(const char *dir, const char *name, const uint8_t *data, size_t len)
{
  char *path = g_build_filename(top, "tests/fuzz/corpus", dir, name, NULL);
  GError *error = NULL;
  if (!g_file_set_contents(path, (const char *) data, (gssize) len, &error))
    g_error("%s", error->message);
  g_free(path);
}

static void
frame_seeds(void)
{
  uint8_t buf[SS_FRAME_MAX], payload[4000];
  ss_fb_spec spec;
  ss_fb_pattern(payload, sizeof payload, 1);

  ss_fb_init(&spec);
  spec.payload = payload;
  spec.payload_len = 64;
  save("frame", "pva-search", buf, ss_fb_build(&spec, buf, sizeof buf));
  spec.options = options;
  spec.options_len = sizeof options;
  save("frame", "options", buf, ss_fb_build(&spec, buf, sizeof buf));
  spec.options_len = 0;
  spec.payload_len = 2;
  spec.padding = 16;
  save("frame", "padded", buf, ss_fb_build(&spec, buf, sizeof buf));
  spec.padding = 0;
  spec.payload_len = sizeof payload;
  spec.ip_dst = ss_fb_addr("255.255.255.255");
  save("frame", "large", buf, ss_fb_build(&spec, buf, sizeof buf));
  spec.ip_frag = SS_IPV4_FLAG_DF;
  save("frame", "large-df", buf, ss_fb_build(&spec, buf, sizeof buf));
  spec.ip_frag = 0;
  spec.payload_len = 20;
  spec.udp_len_delta = 3;
  save("frame", "bad-udp-length", buf, ss_fb_build(&spec, buf, sizeof buf));

  size_t whole_len;
  uint8_t *whole = ss_fb_whole(3000, options, sizeof options, 7, &whole_len);
  save("frame", "fragment-first", buf, ss_fb_fragment(whole, 0, 1480, TRUE, buf, sizeof buf));
  save("frame", "fragment-last", buf,
       ss_fb_fragment(whole, 2960, 48, FALSE, buf, sizeof buf));
  save("frame", "truncated", whole, 100);
  whole[SS_ETH_OFF_TYPE] = 0x86;
  save("frame", "not-ipv4", whole, 80);
  g_free(whole);
}

/* Appends one reassembly record: time step, length, frame. */
static void
record(GByteArray *seq, uint8_t step_ms, const uint8_t *frame, size_t len)
{
  uint8_t hdr[3] = { step_ms, (uint8_t) (len >> 8), (uint8_t) len };
  g_byte_array_append(seq, hdr, sizeof hdr);
  g_byte_array_append(seq, frame, (guint) len);
}

static void
add_fragment(GByteArray *seq, uint8_t step_ms, const uint8_t *whole, size_t off, size_t n,
             gboolean more)
{
  static uint8_t frag[SS_FRAME_MAX];
  record(seq, step_ms, frag, ss_fb_fragment(whole, off, n, more, frag, sizeof frag));
}

static void
save_sequence(const char *name, GByteArray *seq)
{
  save("reassembly", name, seq->data, seq->len);
  g_byte_array_set_size(seq, 0);
}

static void
reassembly_seeds(void)
{
  GByteArray *seq = g_byte_array_new();
  size_t len;
  uint8_t *a = ss_fb_whole(3000, NULL, 0, 1, &len);
  uint8_t *b = ss_fb_whole(1000, options, sizeof options, 2, &len);

  add_fragment(seq, 0, a, 0, 1480, TRUE);
  add_fragment(seq, 1, a, 1480, 1480, TRUE);
  add_fragment(seq, 1, a, 2960, 48, FALSE);
  save_sequence("in-order", seq);

  add_fragment(seq, 0, b, 512, 496, FALSE);
  add_fragment(seq, 0, a, 1480, 1480, TRUE);
  add_fragment(seq, 5, b, 0, 512, TRUE);
  add_fragment(seq, 5, b, 0, 512, TRUE);
  add_fragment(seq, 5, a, 2960, 48, FALSE);
  add_fragment(seq, 5, a, 0, 1480, TRUE);
  save_sequence("interleaved-duplicates", seq);

  add_fragment(seq, 0, a, 0, 1480, TRUE);
  add_fragment(seq, 250, a, 1480, 1480, TRUE);
  add_fragment(seq, 1, a, 2960, 48, FALSE);
  save_sequence("timeout", seq);

  add_fragment(seq, 0, a, 0, 1480, TRUE);
  a[SS_ETH_HLEN + SS_IPV4_MIN_HLEN + 1476] ^= 0xff;
  add_fragment(seq, 0, a, 1472, 1488, FALSE);
  save_sequence("overlap", seq);

  g_free(a);
  g_free(b);
  g_byte_array_unref(seq);
}

int
main(int argc, char **argv)
{
  top = argc > 1 ? argv[1] : ".";
  frame_seeds();
  reassembly_seeds();
  return 0;
}
