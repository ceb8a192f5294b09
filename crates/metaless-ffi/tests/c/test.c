/*
 * The C ABI exercised from C: every function group, its error paths (NULL pointers, wrong
 * lengths, tampered bytes), known answers from test-vectors/, and a full client round trip
 * over the in-process loopback network, driven by this file's own I/O loop.
 *
 * Usage: test <path to test-vectors/>. Prints "N passed, N failed"; exits non-zero on failure.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metaless.h"

static int passed, failed;

static void check(int ok, const char *what, int line) {
  if (ok) {
    passed++;
  } else {
    failed++;
    fprintf(stderr, "FAIL line %d: %s\n", line, what);
  }
}
#define CHECK(cond) check((cond) ? 1 : 0, #cond, __LINE__)

/* Checks a result code; on mismatch prints both names and the context's message. */
static void check_rc(metaless_context *ctx, metaless_result got, metaless_result want,
                     const char *call, int line) {
  if (got == want) {
    passed++;
    return;
  }
  failed++;
  const char *msg = ctx ? metaless_context_last_error(ctx) : NULL;
  fprintf(stderr, "FAIL line %d: %s\n  returned %s, expected %s (%s)\n", line, call,
          metaless_result_name((uint32_t)got), metaless_result_name((uint32_t)want),
          msg ? msg : "no context");
}
#define RC(ctx, call, want) check_rc((ctx), (call), (want), #call, __LINE__)
#define OK(ctx, call) RC((ctx), (call), METALESS_RESULT_OK)

/* ---------- small helpers ---------- */

static size_t hex_decode(const char *hex, uint8_t *out, size_t cap) {
  size_t n = strlen(hex) / 2;
  if (n > cap) return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned int byte = 0;
    if (sscanf(hex + 2 * i, "%2x", &byte) != 1) return 0;
    out[i] = (uint8_t)byte;
  }
  return n;
}

static void hex_encode(const uint8_t *in, size_t len, char *out) {
  for (size_t i = 0; i < len; i++) sprintf(out + 2 * i, "%02x", in[i]);
  out[2 * len] = '\0';
}

static char *read_file(const char *dir, const char *name) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    exit(2);
  }
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *text = malloc((size_t)len + 1);
  if (!text || fread(text, 1, (size_t)len, f) != (size_t)len) exit(2);
  text[len] = '\0';
  fclose(f);
  return text;
}

/*
 * The string value of "key" in a vector file: the first one after the text `anchor` (a
 * section name such as "\"parse_request\""). Enough for our flat vector files; exits if the
 * value is missing, so a renamed field fails loudly.
 */
static const char *vec(const char *doc, const char *anchor, const char *key) {
  static char values[16][512];
  static int slot;
  const char *at = strstr(doc, anchor);
  char quoted[128];
  snprintf(quoted, sizeof quoted, "\"%s\"", key);
  const char *k = at ? strstr(at, quoted) : NULL;
  const char *open = k ? strchr(k + strlen(quoted), '"') : NULL;
  const char *close = open ? strchr(open + 1, '"') : NULL;
  if (!close || (size_t)(close - open - 1) >= sizeof values[0]) {
    fprintf(stderr, "vector %s/%s not found\n", anchor, key);
    exit(2);
  }
  char *out = values[slot++ % 16];
  memcpy(out, open + 1, (size_t)(close - open - 1));
  out[close - open - 1] = '\0';
  return out;
}

/* The numeric value of "key" after `anchor` (a bare JSON number). */
static unsigned long long vec_num(const char *doc, const char *anchor, const char *key) {
  const char *at = strstr(doc, anchor);
  char quoted[128];
  snprintf(quoted, sizeof quoted, "\"%s\"", key);
  const char *k = at ? strstr(at, quoted) : NULL;
  const char *colon = k ? strchr(k, ':') : NULL;
  if (!colon) {
    fprintf(stderr, "vector %s/%s not found\n", anchor, key);
    exit(2);
  }
  return strtoull(colon + 1, NULL, 10);
}

static metaless_buffer empty_buffer(void) {
  metaless_buffer b = {NULL, 0};
  return b;
}

static int buffer_is(const metaless_buffer *b, const char *text) {
  return b->len == strlen(text) && (b->len == 0 || memcmp(b->data, text, b->len) == 0);
}

static metaless_identity *identity_from_hex(metaless_context *ctx, const char *seed_hex) {
  uint8_t seed[32];
  size_t n = hex_decode(seed_hex, seed, sizeof seed);
  metaless_identity *id = NULL;
  OK(ctx, metaless_identity_from_seed(ctx, seed, n, &id));
  return id;
}

/* A non-NULL pointer no function may leave in an output on failure. */
static int sentinel;
#define POISON(T) ((T *)(void *)&sentinel)

/* ---------- context, results ---------- */

static void test_context(void) {
  CHECK(strcmp(metaless_result_name(METALESS_RESULT_OK), "METALESS_RESULT_OK") == 0);
  CHECK(strcmp(metaless_result_name(METALESS_RESULT_DECRYPT_FAILED),
               "METALESS_RESULT_DECRYPT_FAILED") == 0);
  CHECK(strcmp(metaless_result_name(12345), "METALESS_RESULT_UNKNOWN") == 0);

  /* No context: nothing is done, nothing is written. */
  metaless_identity *id = NULL;
  RC(NULL, metaless_identity_new(NULL, &id), METALESS_RESULT_NULL_POINTER);
  CHECK(id == NULL);
  CHECK(metaless_context_last_error(NULL) == NULL);
  CHECK(metaless_context_last_result(NULL) == METALESS_RESULT_NULL_POINTER);

  uint8_t seed[32] = {0};
  CHECK(metaless_context_new_seeded(seed, 31) == NULL);
  CHECK(metaless_context_new_seeded(NULL, 32) == NULL);

  metaless_context *ctx = metaless_context_new();
  CHECK(ctx != NULL);
  CHECK(strcmp(metaless_context_last_error(ctx), "") == 0);
  RC(ctx, metaless_identity_new(ctx, NULL), METALESS_RESULT_NULL_POINTER);
  CHECK(metaless_context_last_result(ctx) == METALESS_RESULT_NULL_POINTER);
  CHECK(strcmp(metaless_context_last_error(ctx), "out: null pointer") == 0);
  /* A success clears the message. */
  OK(ctx, metaless_identity_new(ctx, &id));
  CHECK(strcmp(metaless_context_last_error(ctx), "") == 0);
  metaless_identity_free(id);
  metaless_context_free(ctx);
  metaless_context_free(NULL);

  /* Seeded contexts are reproducible: same seed, same new account. */
  metaless_context *a = metaless_context_new_seeded(seed, 32);
  metaless_context *b = metaless_context_new_seeded(seed, 32);
  metaless_identity *ia = NULL, *ib = NULL;
  OK(a, metaless_identity_new(a, &ia));
  OK(b, metaless_identity_new(b, &ib));
  char sa[METALESS_SESSION_ID_STR_LEN], sb[METALESS_SESSION_ID_STR_LEN];
  OK(a, metaless_identity_session_id(a, ia, sa, sizeof sa));
  OK(b, metaless_identity_session_id(b, ib, sb, sizeof sb));
  CHECK(strcmp(sa, sb) == 0);
  metaless_identity_free(ia);
  metaless_identity_free(ib);
  metaless_context_free(a);
  metaless_context_free(b);

  /* Buffers: freeing empty or already-freed buffers is harmless. */
  metaless_buffer e = empty_buffer();
  metaless_buffer_free(&e);
  metaless_buffer_free(NULL);
}

/* ---------- identity ---------- */

static void test_identity(metaless_context *ctx, const char *enc_vec, const char *blind_vec) {
  /* Known answer: seed -> keys -> Session ID (libsession-util test_session_encrypt.cpp). */
  const char *seed_hex = vec(enc_vec, "\"keys\"", "ed25519_seed");
  metaless_identity *id = identity_from_hex(ctx, seed_hex);
  char sid[METALESS_SESSION_ID_STR_LEN];
  OK(ctx, metaless_identity_session_id(ctx, id, sid, sizeof sid));
  CHECK(strcmp(sid, vec(enc_vec, "\"keys\"", "session_id")) == 0);
  uint8_t key[32];
  char key_hex[65];
  OK(ctx, metaless_identity_ed25519_public(ctx, id, key, sizeof key));
  hex_encode(key, 32, key_hex);
  CHECK(strcmp(key_hex, vec(enc_vec, "\"keys\"", "ed25519_pk")) == 0);
  OK(ctx, metaless_identity_x25519_public(ctx, id, key, sizeof key));
  hex_encode(key, 32, key_hex);
  CHECK(strcmp(key_hex, vec(enc_vec, "\"keys\"", "x25519_pk")) == 0);

  /* The explicit export gives the seed back. */
  uint8_t exported[METALESS_SEED_LEN];
  OK(ctx, metaless_identity_export_seed(ctx, id, exported, sizeof exported));
  char exported_hex[65];
  hex_encode(exported, 32, exported_hex);
  CHECK(strcmp(exported_hex, seed_hex) == 0);
  RC(ctx, metaless_identity_export_seed(ctx, id, exported, 31), METALESS_RESULT_INVALID_LENGTH);

  /* Phrase round trip: a legacy (16-byte) seed has 13 words. */
  metaless_buffer phrase = empty_buffer();
  OK(ctx, metaless_identity_export_mnemonic(ctx, id, &phrase));
  int spaces = 0;
  for (size_t i = 0; i < phrase.len; i++) spaces += phrase.data[i] == ' ';
  CHECK(spaces == 12);
  metaless_identity *restored = NULL;
  OK(ctx, metaless_identity_restore(ctx, (const char *)phrase.data, phrase.len, &restored));
  char sid2[METALESS_SESSION_ID_STR_LEN];
  OK(ctx, metaless_identity_session_id(ctx, restored, sid2, sizeof sid2));
  CHECK(strcmp(sid, sid2) == 0);
  metaless_buffer_free(&phrase);
  CHECK(phrase.data == NULL && phrase.len == 0);
  metaless_identity_free(restored);

  /* Errors. */
  metaless_identity *out = POISON(metaless_identity);
  uint8_t short_seed[5] = {1, 2, 3, 4, 5};
  RC(ctx, metaless_identity_from_seed(ctx, short_seed, 5, &out), METALESS_RESULT_INVALID_LENGTH);
  CHECK(out == NULL);
  CHECK(strcmp(metaless_context_last_error(ctx), "seed: wrong length: expected 32, got 5") == 0);
  out = POISON(metaless_identity);
  RC(ctx, metaless_identity_from_seed(ctx, NULL, 32, &out), METALESS_RESULT_NULL_POINTER);
  CHECK(out == NULL);
  RC(ctx, metaless_identity_from_seed(ctx, exported, 32, NULL), METALESS_RESULT_NULL_POINTER);
  const char *bad_phrase = "abbey abbey";
  RC(ctx, metaless_identity_restore(ctx, bad_phrase, strlen(bad_phrase), &out),
     METALESS_RESULT_INVALID_MNEMONIC);
  /* Log-safe: the message does not repeat the phrase. */
  CHECK(strstr(metaless_context_last_error(ctx), "abbey") == NULL);
  const char not_utf8[] = {(char)0xff, (char)0xfe, 0};
  RC(ctx, metaless_identity_restore(ctx, not_utf8, 2, &out), METALESS_RESULT_INVALID_UTF8);
  RC(ctx, metaless_identity_session_id(ctx, id, sid, 66), METALESS_RESULT_INVALID_LENGTH);
  RC(ctx, metaless_identity_session_id(ctx, NULL, sid, sizeof sid), METALESS_RESULT_NULL_POINTER);
  RC(ctx, metaless_identity_ed25519_public(ctx, id, NULL, 32), METALESS_RESULT_NULL_POINTER);
  metaless_identity_free(id);
  metaless_identity_free(NULL);

  /* Blinded IDs (libsession-util test_blinding.cpp): seed = first half of the sk64. */
  char blind_seed[65];
  memcpy(blind_seed, vec(blind_vec, "\"identities\"", "ed25519_sk64"), 64);
  blind_seed[64] = '\0';
  metaless_identity *b = identity_from_hex(ctx, blind_seed);
  OK(ctx, metaless_identity_session_id(ctx, b, sid, sizeof sid));
  CHECK(strcmp(sid, vec(blind_vec, "\"identities\"", "session_id")) == 0);
  uint8_t server[32];
  hex_decode(vec(blind_vec, "\"blind25_id\"", "server_pk"), server, sizeof server);
  char blinded[METALESS_SESSION_ID_STR_LEN];
  OK(ctx, metaless_identity_blinded25_id(ctx, b, server, 32, blinded, sizeof blinded));
  CHECK(strcmp(blinded, vec(blind_vec, "\"blind25_id\"", "expected")) == 0);
  hex_decode(vec(blind_vec, "\"blind15_id\"", "server_pk"), server, sizeof server);
  OK(ctx, metaless_identity_blinded15_id(ctx, b, server, 32, blinded, sizeof blinded));
  /* Upstream lists the sign-cleared (positive) point; the account presents its own sign, and
   * this account's Ed25519 key is positive, so the two agree. */
  uint8_t ed[32];
  OK(ctx, metaless_identity_ed25519_public(ctx, b, ed, sizeof ed));
  CHECK((ed[31] & 0x80) == 0);
  CHECK(strcmp(blinded, vec(blind_vec, "\"blind15_id\"", "expected")) == 0);
  RC(ctx, metaless_identity_blinded15_id(ctx, b, server, 31, blinded, sizeof blinded),
     METALESS_RESULT_INVALID_LENGTH);
  RC(ctx, metaless_identity_blinded25_id(ctx, b, server, 32, blinded, 10),
     METALESS_RESULT_INVALID_LENGTH);
  metaless_identity_free(b);
}

/* ---------- onion ---------- */

static metaless_node_key *node_key(metaless_context *ctx, uint8_t fill, metaless_hop *hop) {
  uint8_t secret[32];
  memset(secret, fill, sizeof secret);
  metaless_node_key *key = NULL;
  OK(ctx, metaless_node_key_new(ctx, secret, sizeof secret, &key));
  memset(hop->ed25519, fill, 32); /* the hop's name; any 32 bytes do here */
  OK(ctx, metaless_node_key_public(ctx, key, hop->x25519, sizeof hop->x25519));
  return key;
}

/* Peels `body` as `key` and checks the kind; returns the handle. */
static metaless_peeled *peel_as(metaless_context *ctx, metaless_node_key *key,
                                const metaless_buffer *body, metaless_peel_kind want) {
  metaless_peeled *p = NULL;
  OK(ctx, metaless_onion_peel(ctx, key, body->data, body->len, &p));
  CHECK(metaless_peeled_kind(p) == want);
  return p;
}

static void onion_round_trip(metaless_context *ctx, uint32_t enc) {
  metaless_hop hops[3];
  metaless_node_key *keys[3];
  for (int i = 0; i < 3; i++) keys[i] = node_key(ctx, (uint8_t)(0x41 + i), &hops[i]);

  /* Path hops[0], hops[1]; destination hops[2]. */
  const char *payload = "{\"method\":\"info\",\"params\":{}}";
  metaless_buffer body = empty_buffer();
  metaless_pending_response *pending = NULL;
  OK(ctx, metaless_onion_build(ctx, hops, 2, &hops[2], enc, (const uint8_t *)payload,
                               strlen(payload), &body, &pending));

  metaless_buffer layer = body;
  for (int i = 0; i < 2; i++) {
    metaless_peeled *p = peel_as(ctx, keys[i], &layer, METALESS_PEEL_FORWARD);
    uint8_t next[32];
    OK(ctx, metaless_peeled_next_hop(ctx, p, next, sizeof next));
    CHECK(memcmp(next, hops[i + 1].ed25519, 32) == 0);
    metaless_reply_context *none = POISON(metaless_reply_context);
    RC(ctx, metaless_peeled_take_reply(ctx, p, &none), METALESS_RESULT_NOT_AVAILABLE);
    CHECK(none == NULL);
    metaless_buffer next_layer = empty_buffer();
    OK(ctx, metaless_peeled_body(ctx, p, &next_layer));
    metaless_peeled_free(p);
    metaless_buffer_free(&layer);
    layer = next_layer;
  }
  metaless_peeled *p = peel_as(ctx, keys[2], &layer, METALESS_PEEL_DELIVER);
  metaless_buffer request = empty_buffer();
  OK(ctx, metaless_peeled_body(ctx, p, &request));
  CHECK(buffer_is(&request, payload));
  uint8_t next[32];
  RC(ctx, metaless_peeled_next_hop(ctx, p, next, sizeof next), METALESS_RESULT_NOT_AVAILABLE);
  metaless_reply_context *reply = NULL, *again = POISON(metaless_reply_context);
  OK(ctx, metaless_peeled_take_reply(ctx, p, &reply));
  RC(ctx, metaless_peeled_take_reply(ctx, p, &again), METALESS_RESULT_NOT_AVAILABLE);
  CHECK(again == NULL); /* the failed second take cleared the caller's slot */
  metaless_peeled_free(p);

  const char *answer = "{\"version\":[2,11,0]}";
  metaless_buffer sealed = empty_buffer();
  OK(ctx, metaless_reply_context_respond(ctx, reply, (const uint8_t *)answer, strlen(answer),
                                         &sealed));
  metaless_buffer opened = empty_buffer();
  OK(ctx, metaless_pending_response_open(ctx, pending, sealed.data, sealed.len, &opened));
  CHECK(buffer_is(&opened, answer));
  metaless_buffer_free(&opened);

  /* Tampered answer: no plaintext, no detail. */
  sealed.data[sealed.len / 2] ^= 0x01;
  RC(ctx, metaless_pending_response_open(ctx, pending, sealed.data, sealed.len, &opened),
     METALESS_RESULT_DECRYPT_FAILED);
  CHECK(opened.data == NULL && opened.len == 0);
  CHECK(strcmp(metaless_context_last_error(ctx), "decryption failed") == 0);
  RC(ctx, metaless_pending_response_open(ctx, pending, sealed.data, 5, &opened),
     METALESS_RESULT_DECRYPT_FAILED);

  /* An error answer, as a node sends for a rejected layer. */
  metaless_buffer err = empty_buffer();
  OK(ctx, metaless_reply_context_respond_error(ctx, reply, 400, "Invalid json", 12, &err));
  OK(ctx, metaless_pending_response_open(ctx, pending, err.data, err.len, &opened));
  CHECK(buffer_is(&opened, "{\"body\":\"Invalid json\",\"status\":400}"));

  metaless_buffer_free(&opened);
  metaless_buffer_free(&err);
  metaless_buffer_free(&sealed);
  metaless_buffer_free(&request);
  metaless_buffer_free(&layer);
  metaless_reply_context_free(reply);
  metaless_pending_response_free(pending);
  for (int i = 0; i < 3; i++) metaless_node_key_free(keys[i]);
}

static void test_onion(metaless_context *ctx, const char *onion_vec) {
  onion_round_trip(ctx, METALESS_ENC_XCHACHA20);
  onion_round_trip(ctx, METALESS_ENC_AES_GCM);

  /* Known answer (libsession-util test_onionreq.cpp): a node peels a client's request. */
  uint8_t secret[32], pub[32], want_pub[32];
  hex_decode(vec(onion_vec, "\"parse_request\"", "node_secret"), secret, 32);
  hex_decode(vec(onion_vec, "\"parse_request\"", "node_public"), want_pub, 32);
  metaless_node_key *node = NULL;
  OK(ctx, metaless_node_key_new(ctx, secret, 32, &node));
  OK(ctx, metaless_node_key_public(ctx, node, pub, sizeof pub));
  CHECK(memcmp(pub, want_pub, 32) == 0);
  const char *body_hex = vec(onion_vec, "\"parse_request\"", "body");
  size_t cap = strlen(body_hex) / 2;
  uint8_t *body = malloc(cap);
  size_t body_len = hex_decode(body_hex, body, cap);
  /* Its layer holds a bare payload (no routing JSON): open it as a server would. */
  metaless_buffer payload = empty_buffer();
  metaless_reply_context *reply = NULL;
  OK(ctx, metaless_onion_open_layer(ctx, node, body, body_len, &payload, &reply));
  CHECK(buffer_is(&payload, vec(onion_vec, "\"parse_request\"", "payload_utf8")));
  metaless_buffer sealed = empty_buffer();
  OK(ctx, metaless_reply_context_respond(ctx, reply, (const uint8_t *)"Hello, world!", 13,
                                         &sealed));
  CHECK(sealed.len == vec_num(onion_vec, "\"parse_request\"", "reply_len_for_13_bytes"));
  metaless_buffer_free(&sealed);
  metaless_buffer_free(&payload);
  metaless_reply_context_free(reply);

  /* Tampered and truncated layers. */
  metaless_peeled *p = POISON(metaless_peeled);
  body[body_len - 60] ^= 0x01; /* inside the ciphertext */
  RC(ctx, metaless_onion_peel(ctx, node, body, body_len, &p), METALESS_RESULT_DECRYPT_FAILED);
  CHECK(p == NULL);
  reply = POISON(metaless_reply_context);
  RC(ctx, metaless_onion_open_layer(ctx, node, body, body_len, &payload, &reply),
     METALESS_RESULT_DECRYPT_FAILED);
  CHECK(reply == NULL && payload.data == NULL);
  RC(ctx, metaless_onion_peel(ctx, node, body, 3, &p), METALESS_RESULT_MALFORMED);
  RC(ctx, metaless_onion_peel(ctx, node, NULL, 10, &p), METALESS_RESULT_NULL_POINTER);
  RC(ctx, metaless_onion_peel(ctx, NULL, body, body_len, &p), METALESS_RESULT_NULL_POINTER);
  CHECK(metaless_peeled_kind(NULL) == METALESS_PEEL_INVALID);
  CHECK(metaless_peeled_reject_status(NULL) == 0);
  free(body);

  /* Build errors: the outputs stay empty. */
  metaless_hop hops[METALESS_MAX_HOPS + 1];
  memset(hops, 0, sizeof hops);
  for (int i = 0; i <= METALESS_MAX_HOPS; i++) memcpy(hops[i].x25519, pub, 32);
  metaless_buffer out = {POISON(uint8_t), 7};
  metaless_pending_response *pending = POISON(metaless_pending_response);
  RC(ctx, metaless_onion_build(ctx, hops, 0, &hops[0], METALESS_ENC_XCHACHA20,
                               (const uint8_t *)"x", 1, &out, &pending),
     METALESS_RESULT_INVALID_PATH);
  CHECK(out.data == NULL && out.len == 0 && pending == NULL);
  RC(ctx, metaless_onion_build(ctx, hops, METALESS_MAX_HOPS + 1, &hops[0],
                               METALESS_ENC_XCHACHA20, (const uint8_t *)"x", 1, &out, &pending),
     METALESS_RESULT_INVALID_PATH);
  RC(ctx, metaless_onion_build(ctx, hops, 1, &hops[0], 7, (const uint8_t *)"x", 1, &out,
                               &pending),
     METALESS_RESULT_INVALID_ARGUMENT);
  RC(ctx, metaless_onion_build(ctx, hops, 1, NULL, METALESS_ENC_XCHACHA20,
                               (const uint8_t *)"x", 1, &out, &pending),
     METALESS_RESULT_NULL_POINTER);
  RC(ctx, metaless_onion_build(ctx, hops, 1, &hops[0], METALESS_ENC_XCHACHA20, NULL, 5, &out,
                               &pending),
     METALESS_RESULT_NULL_POINTER);
  metaless_node_key *bad_key = POISON(metaless_node_key);
  RC(ctx, metaless_node_key_new(ctx, secret, 31, &bad_key), METALESS_RESULT_INVALID_LENGTH);
  CHECK(bad_key == NULL);

  /* To a server: the last hop forwards to host:port/target. */
  metaless_hop h;
  metaless_node_key *k = node_key(ctx, 0x51, &h);
  RC(ctx, metaless_onion_build_to_server(ctx, &h, 1, "ftp", 3, "example.org", 11, 443, "", 0,
                                         pub, 32, METALESS_ENC_XCHACHA20,
                                         (const uint8_t *)"x", 1, &out, &pending),
     METALESS_RESULT_INVALID_DESTINATION);
  OK(ctx, metaless_onion_build_to_server(ctx, &h, 1, "https", 5, "example.org", 11, 8443, "", 0,
                                         pub, 32, METALESS_ENC_XCHACHA20,
                                         (const uint8_t *)"x", 1, &out, &pending));
  p = peel_as(ctx, k, &out, METALESS_PEEL_SERVER);
  metaless_buffer proto = empty_buffer(), host = empty_buffer(), target = empty_buffer();
  uint16_t port = 0;
  OK(ctx, metaless_peeled_server(ctx, p, &proto, &host, &port, &target));
  CHECK(buffer_is(&proto, "https") && buffer_is(&host, "example.org") && port == 8443 &&
        buffer_is(&target, "/oxen/v4/lsrpc"));
  metaless_buffer_free(&proto);
  metaless_buffer_free(&host);
  metaless_buffer_free(&target);
  metaless_peeled_free(p);
  metaless_buffer_free(&out);
  metaless_pending_response_free(pending);
  metaless_node_key_free(k);
  metaless_node_key_free(node);
}

/* ---------- messages ---------- */

static void test_msg(metaless_context *ctx, const char *enc_vec) {
  /* Known answer (libsession-util test_session_encrypt.cpp): open a deterministic ciphertext. */
  const char *section = "\"encrypt_for_recipient_deterministic\"";
  metaless_identity *recipient =
      identity_from_hex(ctx, vec(enc_vec, section, "decrypt_with_recipient_seed"));
  metaless_identity *sender = identity_from_hex(ctx, vec(enc_vec, section, "sender_ed25519_seed"));
  char sender_id[METALESS_SESSION_ID_STR_LEN];
  OK(ctx, metaless_identity_session_id(ctx, sender, sender_id, sizeof sender_id));
  const char *ct_hex = vec(enc_vec, section, "ciphertext_hex");
  size_t cap = strlen(ct_hex) / 2;
  uint8_t *ct = malloc(cap);
  size_t ct_len = hex_decode(ct_hex, ct, cap);
  char from[METALESS_SESSION_ID_STR_LEN];
  metaless_buffer plain = empty_buffer();
  OK(ctx, metaless_msg_decrypt(ctx, recipient, ct, ct_len, from, sizeof from, &plain));
  CHECK(buffer_is(&plain, vec(enc_vec, section, "plaintext_utf8")));
  CHECK(strcmp(from, sender_id) == 0);
  metaless_buffer_free(&plain);

  /* Wrong recipient, tampered byte, truncation, small sender buffer. */
  RC(ctx, metaless_msg_decrypt(ctx, sender, ct, ct_len, from, sizeof from, &plain),
     METALESS_RESULT_DECRYPT_FAILED);
  CHECK(plain.data == NULL);
  ct[ct_len / 2] ^= 0x80;
  RC(ctx, metaless_msg_decrypt(ctx, recipient, ct, ct_len, from, sizeof from, &plain),
     METALESS_RESULT_DECRYPT_FAILED);
  ct[ct_len / 2] ^= 0x80;
  RC(ctx, metaless_msg_decrypt(ctx, recipient, ct, 100, from, sizeof from, &plain),
     METALESS_RESULT_MALFORMED);
  RC(ctx, metaless_msg_decrypt(ctx, recipient, ct, ct_len, from, 10, &plain),
     METALESS_RESULT_INVALID_LENGTH);
  CHECK(plain.data == NULL);
  RC(ctx, metaless_msg_decrypt(ctx, recipient, ct, ct_len, from, sizeof from, NULL),
     METALESS_RESULT_NULL_POINTER);
  free(ct);

  /* Raw round trip. */
  char to[METALESS_SESSION_ID_STR_LEN];
  OK(ctx, metaless_identity_session_id(ctx, recipient, to, sizeof to));
  metaless_buffer sealed = empty_buffer();
  OK(ctx, metaless_msg_encrypt(ctx, sender, to, strlen(to), (const uint8_t *)"raw bytes", 9,
                               &sealed));
  CHECK(sealed.len == 9 + METALESS_MSG_OVERHEAD);
  OK(ctx, metaless_msg_decrypt(ctx, recipient, sealed.data, sealed.len, from, sizeof from,
                               &plain));
  CHECK(buffer_is(&plain, "raw bytes"));
  metaless_buffer_free(&plain);
  metaless_buffer_free(&sealed);
  RC(ctx, metaless_msg_encrypt(ctx, sender, "05zz", 4, (const uint8_t *)"x", 1, &sealed),
     METALESS_RESULT_INVALID_SESSION_ID);
  char bad_to[METALESS_SESSION_ID_STR_LEN];
  memcpy(bad_to, to, sizeof bad_to);
  bad_to[10] = 'g';
  RC(ctx, metaless_msg_encrypt(ctx, sender, bad_to, 66, (const uint8_t *)"x", 1, &sealed),
     METALESS_RESULT_INVALID_SESSION_ID);

  /* Stored form with a disappear-after-read setting. */
  OK(ctx, metaless_msg_seal(ctx, sender, to, strlen(to), "see you", 7, 1700000000123ull,
                            METALESS_DISAPPEAR_AFTER_READ, 60, &sealed));
  metaless_message_info info;
  metaless_buffer text = empty_buffer();
  OK(ctx, metaless_msg_open(ctx, recipient, sealed.data, sealed.len, &info, &text));
  CHECK(buffer_is(&text, "see you"));
  CHECK(strcmp(info.sender, sender_id) == 0);
  CHECK(info.kind == METALESS_MESSAGE_TEXT);
  CHECK(info.sent_at_ms == 1700000000123ull);
  CHECK(info.disappear_mode == METALESS_DISAPPEAR_AFTER_READ && info.disappear_timer_s == 60);
  metaless_buffer_free(&text);
  RC(ctx, metaless_msg_open(ctx, sender, sealed.data, sealed.len, &info, &text),
     METALESS_RESULT_DECRYPT_FAILED);
  CHECK(info.kind == 0 && info.sender[0] == '\0');
  sealed.data[sealed.len / 2] ^= 0x01; /* inside the sealed box */
  RC(ctx, metaless_msg_open(ctx, recipient, sealed.data, sealed.len, &info, &text),
     METALESS_RESULT_DECRYPT_FAILED);
  RC(ctx, metaless_msg_open(ctx, recipient, sealed.data, 3, &info, &text),
     METALESS_RESULT_MALFORMED);
  metaless_buffer_free(&sealed);
  RC(ctx, metaless_msg_seal(ctx, sender, to, strlen(to), "x", 1, 1, 9, 60, &sealed),
     METALESS_RESULT_INVALID_ARGUMENT);
  RC(ctx, metaless_msg_seal(ctx, sender, to, strlen(to), "x", 1, 1,
                            METALESS_DISAPPEAR_AFTER_SEND, 0, &sealed),
     METALESS_RESULT_INVALID_ARGUMENT);
  RC(ctx, metaless_msg_seal(ctx, NULL, to, strlen(to), "x", 1, 1, 0, 0, &sealed),
     METALESS_RESULT_NULL_POINTER);

  metaless_identity_free(sender);
  metaless_identity_free(recipient);
}

/* ---------- swarm ---------- */

static void test_swarm(metaless_context *ctx, const char *swarm_vec) {
  /* Known answers (libsession-util test_network_swarm.cpp). */
  const char *section = strstr(swarm_vec, "\"swarm_space\"");
  const char *at = section ? strstr(section, "\"x25519\"") : NULL;
  CHECK(at != NULL);
  for (int i = 0; i < 3 && at; i++) {
    char pubkey[67] = "05";
    strncat(pubkey, vec(at, "\"x25519\"", "x25519"), 64);
    uint64_t want = strtoull(vec(at, "\"x25519\"", "space"), NULL, 10);
    uint64_t space = 0;
    OK(ctx, metaless_swarm_space(ctx, pubkey, strlen(pubkey), &space));
    CHECK(space == want);
    at = strstr(at + 1, "\"x25519\"");
  }

  const char *pk = "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72";
  uint64_t space = 0, swarm = 0;
  OK(ctx, metaless_swarm_space(ctx, pk, strlen(pk), &space));
  uint64_t ids[3] = {space - 5, space + 1000, space / 2};
  OK(ctx, metaless_swarm_map(ctx, pk, strlen(pk), ids, 3, &swarm));
  CHECK(swarm == space - 5);
  OK(ctx, metaless_swarm_map(ctx, pk, strlen(pk), NULL, 0, &swarm));
  CHECK(swarm == METALESS_INVALID_SWARM_ID);
  RC(ctx, metaless_swarm_map(ctx, pk, strlen(pk), NULL, 2, &swarm), METALESS_RESULT_NULL_POINTER);
  RC(ctx, metaless_swarm_space(ctx, pk, 10, &space), METALESS_RESULT_INVALID_SESSION_ID);

  uint64_t ttl = 0;
  OK(ctx, metaless_swarm_ttl_clamp(ctx, 0, UINT64_MAX, &ttl));
  CHECK(ttl == 14ull * 24 * 3600 * 1000);
  OK(ctx, metaless_swarm_ttl_clamp(ctx, 0, 1, &ttl));
  CHECK(ttl == 10000);
  OK(ctx, metaless_swarm_ttl_default(ctx, 0, &ttl));
  CHECK(ttl == 14ull * 24 * 3600 * 1000);
  RC(ctx, metaless_swarm_ttl_clamp(ctx, 40000, 1, &ttl), METALESS_RESULT_UNKNOWN_NAMESPACE);
  CHECK(ttl == 0);
  RC(ctx, metaless_swarm_ttl_default(ctx, -40000, NULL), METALESS_RESULT_NULL_POINTER);
}

/* ---------- client over the loopback network ---------- */

struct peer {
  metaless_identity *id;
  metaless_client *client;
  char session_id[METALESS_SESSION_ID_STR_LEN];
  uint64_t sent_id;
  int delivered;
  int received;
  int transmits;
};

/* The host's I/O loop: POST what the client wants, feed the answers back, read events. */
static void pump(metaless_context *ctx, metaless_loopback *net, struct peer *me,
                 const char *expect_from, const char *expect_text) {
  for (;;) {
    metaless_transmit *t = NULL;
    OK(ctx, metaless_client_poll_transmit(ctx, me->client, &t));
    if (!t) break;
    me->transmits++;
    uint8_t node[32];
    size_t body_len = 0;
    const uint8_t *body = metaless_transmit_body(t, &body_len);
    const char *path = metaless_transmit_path(t);
    CHECK(strncmp(metaless_transmit_url(t), "http://", 7) == 0);
    CHECK(metaless_transmit_deadline_ms(t) > 0);
    uint16_t status = 0;
    metaless_buffer answer = empty_buffer();
    uint64_t now = metaless_loopback_now_ms(net);
    metaless_result r = metaless_transmit_node(ctx, t, node, sizeof node);
    if (r == METALESS_RESULT_OK)
      r = metaless_loopback_post(ctx, net, node, 32, path, strlen(path), body, body_len, &status,
                                 &answer);
    if (r == METALESS_RESULT_OK) {
      OK(ctx, metaless_client_handle_response(ctx, me->client, now, metaless_transmit_id(t),
                                              status, answer.data, answer.len));
    } else {
      uint32_t kind = r == METALESS_RESULT_TRANSPORT_TIMEOUT ? METALESS_TRANSPORT_TIMEOUT
                                                             : METALESS_TRANSPORT_CONNECT;
      OK(ctx, metaless_client_handle_transport_error(ctx, me->client, now,
                                                     metaless_transmit_id(t), kind));
    }
    metaless_buffer_free(&answer);
    metaless_transmit_free(t);
  }
  for (;;) {
    metaless_event *e = NULL;
    OK(ctx, metaless_client_poll_event(ctx, me->client, &e));
    if (!e) break;
    switch (metaless_event_get_kind(e)) {
      case METALESS_EVENT_DELIVERED:
        if (metaless_event_id(e) == me->sent_id) me->delivered = 1;
        CHECK(metaless_event_hash(e) != NULL);
        break;
      case METALESS_EVENT_RECEIVED: {
        metaless_message_info info;
        metaless_buffer text = empty_buffer();
        OK(ctx, metaless_event_message(ctx, e, &info, &text));
        if (expect_text && buffer_is(&text, expect_text) &&
            strcmp(info.sender, expect_from) == 0 && info.kind == METALESS_MESSAGE_TEXT &&
            metaless_event_hash(e) != NULL && metaless_event_expiry_ms(e) > 0)
          me->received = 1;
        metaless_buffer_free(&text);
        break;
      }
      case METALESS_EVENT_FAILED:
        fprintf(stderr, "operation %llu failed: kind %u status %u\n",
                (unsigned long long)metaless_event_id(e), metaless_event_failure_kind(e),
                metaless_event_failure_status(e));
        break;
      default: {
        /* Other events carry no message. */
        metaless_message_info info;
        metaless_buffer text = empty_buffer();
        RC(ctx, metaless_event_message(ctx, e, &info, &text), METALESS_RESULT_NOT_AVAILABLE);
        break;
      }
    }
    metaless_event_free(e);
  }
}

static void test_client(metaless_context *ctx) {
  metaless_loopback *net = POISON(metaless_loopback);
  RC(ctx, metaless_loopback_new(ctx, 0, 1, 1, &net), METALESS_RESULT_INVALID_ARGUMENT);
  CHECK(net == NULL);
  OK(ctx, metaless_loopback_new(ctx, 8, 2, 7, &net));
  metaless_service_node nodes[8];
  size_t n = 0;
  RC(ctx, metaless_loopback_service_nodes(ctx, net, nodes, 4, &n), METALESS_RESULT_INVALID_LENGTH);
  CHECK(n == 8);
  OK(ctx, metaless_loopback_service_nodes(ctx, net, nodes, 8, &n));
  CHECK(n == 8);

  /* A node that is not there: the host reports a connection failure. */
  uint8_t nobody[32] = {0};
  uint16_t status = 0;
  metaless_buffer answer = empty_buffer();
  RC(ctx, metaless_loopback_post(ctx, net, nobody, 32, "/storage_rpc/v1", 15, NULL, 0, &status,
                                 &answer),
     METALESS_RESULT_TRANSPORT_UNREACHABLE);

  struct peer alice = {0}, bob = {0};
  uint64_t now = metaless_loopback_now_ms(net);
  uint8_t seed[32];
  memset(seed, 0xa1, sizeof seed);
  OK(ctx, metaless_identity_from_seed(ctx, seed, 32, &alice.id));
  memset(seed, 0xb0, sizeof seed);
  OK(ctx, metaless_identity_from_seed(ctx, seed, 32, &bob.id));
  struct peer *peers[2] = {&alice, &bob};
  for (int i = 0; i < 2; i++) {
    OK(ctx, metaless_client_new_testnet(ctx, peers[i]->id, nodes, n, now, &peers[i]->client));
    OK(ctx, metaless_client_session_id(ctx, peers[i]->client, peers[i]->session_id,
                                       sizeof peers[i]->session_id));
  }

  /* Send errors leave nothing queued. */
  uint64_t id = 99;
  RC(ctx, metaless_client_send_text(ctx, alice.client, now, "05ab", 4, "x", 1, 0, 0, &id),
     METALESS_RESULT_INVALID_SESSION_ID);
  CHECK(id == 0);
  RC(ctx, metaless_client_send_text(ctx, alice.client, now, bob.session_id, 66, "x", 1, 5, 0, &id),
     METALESS_RESULT_INVALID_ARGUMENT);
  CHECK(metaless_client_pending_sends(alice.client) == 0);
  RC(ctx, metaless_client_handle_transport_error(ctx, alice.client, now, 1, 99),
     METALESS_RESULT_INVALID_ARGUMENT);
  metaless_transmit *t = NULL;
  RC(ctx, metaless_client_poll_transmit(ctx, NULL, &t), METALESS_RESULT_NULL_POINTER);
  CHECK(metaless_transmit_id(NULL) == 0 && metaless_transmit_url(NULL) == NULL);
  CHECK(metaless_event_get_kind(NULL) == METALESS_EVENT_INVALID);

  const char *text = "hello from C";
  OK(ctx, metaless_client_send_text(ctx, alice.client, now, bob.session_id,
                                    METALESS_SESSION_ID_HEX_LEN, text, strlen(text),
                                    METALESS_DISAPPEAR_OFF, 0, &alice.sent_id));
  CHECK(alice.sent_id != 0);
  CHECK(metaless_client_pending_sends(alice.client) == 1);

  /* Drive both clients in virtual time until Alice's message is stored and Bob has read it. */
  for (int round = 0; round < 500 && !(alice.delivered && bob.received); round++) {
    pump(ctx, net, &alice, NULL, NULL);
    pump(ctx, net, &bob, alice.session_id, text);
    if (alice.delivered && bob.received) break;
    uint64_t next = UINT64_MAX;
    for (int i = 0; i < 2; i++) {
      uint64_t at = 0;
      bool has = false;
      OK(ctx, metaless_client_poll_timeout(ctx, peers[i]->client, &at, &has));
      if (has && at < next) next = at;
    }
    uint64_t floor = metaless_loopback_now_ms(net) + 1;
    now = next > floor ? next : floor;
    OK(ctx, metaless_loopback_set_time(ctx, net, now));
    for (int i = 0; i < 2; i++)
      OK(ctx, metaless_client_handle_timeout(ctx, peers[i]->client, now));
  }
  CHECK(alice.delivered);
  CHECK(bob.received);
  CHECK(alice.transmits > 0 && bob.transmits > 0);
  CHECK(metaless_client_pending_sends(alice.client) == 0);

  for (int i = 0; i < 2; i++) {
    metaless_client_free(peers[i]->client);
    metaless_identity_free(peers[i]->id);
  }
  metaless_loopback_free(net);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s <test-vectors dir>\n", argv[0]);
    return 2;
  }
  char *enc_vec = read_file(argv[1], "session_encrypt.json");
  char *blind_vec = read_file(argv[1], "blinding.json");
  char *onion_vec = read_file(argv[1], "onionreq.json");
  char *swarm_vec = read_file(argv[1], "swarm.json");

  test_context();
  metaless_context *ctx = metaless_context_new();
  test_identity(ctx, enc_vec, blind_vec);
  test_onion(ctx, onion_vec);
  test_msg(ctx, enc_vec);
  test_swarm(ctx, swarm_vec);
  test_client(ctx);
  metaless_context_free(ctx);

  free(enc_vec);
  free(blind_vec);
  free(onion_vec);
  free(swarm_vec);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
