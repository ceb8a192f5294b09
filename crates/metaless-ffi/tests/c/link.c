/* A program as a packager's user writes it: compiled with `pkg-config --cflags --libs metaless`
 * against an installed library, it checks the version functions and makes one identity. */
#include <metaless.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s EXPECTED_VERSION\n", argv[0]);
        return 2;
    }
    if (strcmp(metaless_version(), argv[1]) != 0) {
        fprintf(stderr, "version %s, expected %s\n", metaless_version(), argv[1]);
        return 1;
    }
    if (metaless_abi_version() != METALESS_ABI_VERSION) {
        fprintf(stderr, "ABI %u, header says %u\n", metaless_abi_version(), METALESS_ABI_VERSION);
        return 1;
    }
    metaless_context *ctx = metaless_context_new();
    metaless_identity *id = NULL;
    uint8_t seed[METALESS_SEED_LEN] = {7};
    if (metaless_identity_from_seed(ctx, seed, sizeof seed, &id) != METALESS_RESULT_OK) {
        fprintf(stderr, "identity: %s\n", metaless_context_last_error(ctx));
        return 1;
    }
    char sid[METALESS_SESSION_ID_STR_LEN];
    if (metaless_identity_session_id(ctx, id, sid, sizeof sid) != METALESS_RESULT_OK || strncmp(sid, "05", 2) != 0) {
        fprintf(stderr, "session id: %s\n", metaless_context_last_error(ctx));
        return 1;
    }
    metaless_identity_free(id);
    metaless_context_free(ctx);
    printf("linked metaless %s (ABI %u)\n", metaless_version(), metaless_abi_version());
    return 0;
}
