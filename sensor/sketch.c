/* The sensor's sketch settings and address cache; see sketch.h. */
#include <sodium.h>

#include "hll.h"
#include "sketch.h"

void
sketch_init(struct sketch *s, const struct sketchkey *key, uint64_t budget)
{
	memset(s, 0, sizeof(*s));
	if (key != NULL) {
		s->key = *key;
		s->send = 1;
	} else
		sketchkey_builtin(&s->key);
	s->p = HLL_P_DEFAULT;
	s->budget = budget;
}

void
sketch_clear(struct sketch *s)
{
	sodium_memzero(s, sizeof(*s));
}
