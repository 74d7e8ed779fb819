/* libFuzzer target for the WebSocket frame decoder: decodes a stream of
 * frames the way ws.c does, checks the decoder's promises (never past the
 * input, payload inside the frame, lengths within the cap) and re-encodes
 * every frame to compare. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0, max;
	struct ws_frame f;

	if (size < 1)
		return 0;
	/* The first byte picks the cap, so both the oversize and the
	 * normal paths are reached. */
	max = (size_t)data[0] * 16;
	data++;
	size--;
	while (off < size) {
		enum ws_parse_result r = ws_frame_parse(data + off, size - off, max, &f);

		if (r != WS_PARSE_FRAME) {
			if (r == WS_PARSE_ERROR && (f.error == NULL || f.error_code == 0))
				abort();
			break;
		}
		if (f.frame_len > size - off || f.payload_len > max || f.frame_len < 2 ||
		    f.payload < data + off || f.payload + f.payload_len != data + off + f.frame_len)
			abort();
		if (f.opcode >= WS_OP_CLOSE && (f.payload_len > 125 || !f.fin))
			abort();
		{
			uint8_t *copy = malloc(f.payload_len + 1), *frame;
			size_t n;

			memcpy(copy, f.payload, f.payload_len);
			if (f.masked)
				ws_mask(copy, f.payload_len, f.mask, 0);
			frame = malloc(ws_frame_size(f.payload_len, f.masked));
			n = ws_frame_encode(frame, f.opcode, f.fin, copy, f.payload_len,
			                    f.masked ? f.mask : NULL);
			/* Equal unless the input used a longer length form than needed. */
			if (n == f.frame_len && memcmp(frame, data + off, n) != 0)
				abort();
			free(frame);
			free(copy);
		}
		off += f.frame_len;
	}
	return 0;
}
