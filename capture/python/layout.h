/*
 * layout.h - where CPython keeps what the sampler reads, per minor version.
 *
 * For 2.7 and 3.6 - 3.12 the offsets are compiled in, one table per minor
 * version (py_layout_2_7 ... py_layout_3_12, measured from each version's
 * own headers, x86_64 Linux, default GIL build).  For 3.13+ the interpreter
 * publishes most of them in _Py_DebugOffsets at the start of _PyRuntime;
 * layout_from_debug_offsets() parses that block (its own layout is per
 * minor: 72 / 94 / 110 fields in 3.13 / 3.14 / 3.15) and fills the rest
 * from per-minor knowledge (frame owner values, tag bits, string state
 * bits, dict layouts).
 *
 * An offset of -1 means "this version has no such field".
 */
#ifndef PYSPY_CAPTURE_PYTHON_LAYOUT_H
#define PYSPY_CAPTURE_PYTHON_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

enum py_frames {
	PY_FRAMES_OBJECT = 0,    /* <= 3.10: PyFrameObject chain via f_back */
	PY_FRAMES_INTERP = 1,    /* 3.11+: _PyInterpreterFrame chain via previous */
};

enum py_lines {
	PY_LINES_LNOTAB27 = 0,   /* 2.7: co_lnotab, unsigned line deltas */
	PY_LINES_LNOTAB = 1,     /* 3.6 - 3.9: co_lnotab, signed line deltas */
	PY_LINES_310 = 2,        /* 3.10: co_linetable pairs */
	PY_LINES_PEP657 = 3,     /* 3.11+: location table */
};

enum py_gil {
	PY_GIL_NONE = 0,         /* unknown */
	PY_GIL_SYMBOL = 1,       /* 2.7, 3.6: *_PyThreadState_Current */
	PY_GIL_RUNTIME = 2,      /* 3.7 - 3.11: _PyRuntime.gilstate.tstate_current */
	PY_GIL_INTERP = 3,       /* 3.12+: interp->ceval.gil -> {last_holder, locked} */
};

enum py_dicts {
	PY_DICT_27 = 0,          /* ma_mask, ma_table of {hash, key, value} */
	PY_DICT_36 = 1,          /* 3.6 - 3.10 PyDictKeysObject */
	PY_DICT_311 = 2,         /* 3.11+ PyDictKeysObject (log2 sizes, kinds) */
};

enum py_attrs {
	PY_ATTRS_DICTOFFSET = 0, /* instance dict at tp_dictoffset (<= 3.10) */
	PY_ATTRS_311 = 1,        /* values at obj-32 / dict at obj-24 */
	PY_ATTRS_312 = 2,        /* tagged pointer at obj-24 */
	PY_ATTRS_313 = 3,        /* dict at obj-24, else inline values */
};

struct py_layout {
	int major, minor;

	/* _PyRuntime */
	int32_t rt_interp_head;      /* interpreters.head; -1: use interp_head (2.7/3.6) */
	int32_t rt_tstate_current;   /* gilstate.tstate_current (3.7 - 3.11) */

	/* PyInterpreterState */
	int32_t is_next, is_threads_head, is_id, is_modules;
	int32_t is_ceval_gil;        /* pointer to struct _gil_runtime_state (3.12+) */
	int32_t is_code_gen;         /* _code_object_generation (3.14+) */
	int32_t gil_holder, gil_locked; /* in struct _gil_runtime_state */

	/* PyThreadState */
	int32_t ts_next, ts_interp;
	int32_t ts_frame;            /* <= 3.10: PyFrameObject *frame */
	int32_t ts_cframe;           /* 3.11, 3.12: _PyCFrame *cframe */
	int32_t cf_current_frame;    /* in _PyCFrame */
	int32_t ts_current_frame;    /* 3.13+ */
	int32_t ts_thread_id, ts_native_thread_id;
	int32_t ts_datastack_chunk, ts_datastack_top;
	int32_t ts_holds_gil;        /* 3.15 (int) */
	int32_t ts_gil_requested;    /* 3.15 (int) */
	int32_t ts_base_frame;       /* 3.15 */
	uint32_t ts_read;            /* bytes to read from a thread state */

	/* PyFrameObject (<= 3.10) */
	int32_t f_back, f_code, f_lasti;
	uint32_t f_read;
	int32_t f_localsplus;        /* locals, then cells, then free variables */

	/* _PyInterpreterFrame (3.11+) */
	int32_t if_code, if_previous, if_instr, if_owner;
	uint32_t if_size;
	int if_tagged;               /* f_executable is a _PyStackRef (3.14+): mask 3 */
	int owner_skip_min;          /* skip frames with owner >= this (0 = never) */
	int owner_skip_only;         /* 3.12/3.13: skip only owner == skip_min */
	int instr_is_prev;           /* 3.11/3.12: prev_instr (points before) */
	int32_t if_localsplus;       /* the frame's local slots (3.14+: _PyStackRef) */

	/* PyCodeObject */
	int32_t co_name, co_qualname, co_filename, co_firstlineno, co_linetable;
	int32_t co_code_adaptive;    /* 3.11+: inline bytecode */
	int32_t co_version;          /* 3.12/3.13: unique per code object */
	int32_t co_flags, co_argcount;
	uint32_t co_read;            /* bytes to read from a code object */
	/* local variables (dumps): names tuple(s) and counts */
	int32_t co_kwonlyargcount;   /* -1 on 2.7 */
	int32_t co_nlocals;          /* <= 3.10: locals among co_varnames */
	int32_t co_varnames;         /* <= 3.10 co_varnames; 3.11+ co_localsplusnames */
	int32_t co_cellvars, co_freevars; /* <= 3.10 */
	int32_t co_localspluskinds;  /* 3.11+ (bytes) */

	/* objects */
	int32_t ob_type;             /* 8 */
	int32_t tp_name, tp_flags, tp_basicsize, tp_dictoffset;
	int32_t ht_cached_keys;
	int32_t md_dict;
	int32_t bytes_size, bytes_sval; /* 2.7: PyStringObject */
	int32_t str_length, str_state;
	uint32_t str_ascii_size, str_compact_size;
	int str_kind_shift, str_compact_bit, str_ascii_bit;
	int unicode_27;              /* 2.7 unicode objects: length@16, str@24, UCS4 */
	int32_t long_size;           /* ob_size (<= 3.11) / lv_tag (3.12+) at 16 */
	int long_tagged;             /* 3.12+: lv_tag encoding */
	int32_t long_digits;         /* 24 */
	int32_t tuple_item, list_item; /* ob_item (tuple: inline, list: pointer) */
	int32_t float_fval;
	int32_t dict_keys, dict_values; /* 2.7: ma_mask, ma_table */
	int dict_kind;               /* enum py_dicts */
	int dict_values_hdr;         /* 3.13+: PyDictValues header bytes before values[] */
	int attrs_kind;              /* enum py_attrs */

	enum py_frames frames;
	enum py_lines lines;
	enum py_gil gil;
	int free_threaded;

	/* Facts the walkers use besides field offsets (version checks belong here). */
	int refcnt_low32;            /* 3.12+: a live object's count is the low 32 bits
				      * (immortal and static objects keep flag bits above) */
	int refcnt_flags;            /* 3.14+: ob_flags (static immortals) in the top 16 bits */
	unsigned if_owner_max;       /* largest valid _PyInterpreterFrame owner (3.14+: 4) */
	int if_exec_any;             /* 3.13+: f_executable may be a non-code object (PEP 523) */
	int32_t chunk_size, chunk_top, chunk_data; /* _PyStackChunk (3.11+): previous is at 0,
				      * top counts words of data[] in use */
	int func_version_epoch;      /* 3.12: _Py_next_func_version changes when co_version may repeat */
	int32_t ob_size;             /* PyVarObject ob_size (3.11+ code objects: code units) */
	int32_t dict_used;           /* PyDictObject ma_used */
	const char *thread_name_attr;   /* threading.Thread's name ("_name"; 2.7: "_Thread__name") */
	const char *thread_bootstrap;   /* the method a new thread starts in ("_bootstrap") */
};

/* The compiled-in table for major.minor (2.7, 3.6 - 3.12), or NULL. */
const struct py_layout *layout_for(int major, int minor, int micro);

/* Number of _Py_DebugOffsets bytes to read for minor (3.13+), 0 if unknown. */
size_t layout_debug_offsets_size(int minor);

/*
 * Build the layout of a 3.13+ interpreter from its _Py_DebugOffsets block
 * (buf = the first layout_debug_offsets_size() bytes of _PyRuntime).
 * Checks the cookie, that the version's minor equals minor, free_threaded
 * and that sizes are sane.  On failure returns -1 with a reason in err.
 * *version receives the embedded PY_VERSION_HEX, *ft free_threaded.
 */
int layout_from_debug_offsets(const uint8_t *buf, size_t len, int minor,
			      struct py_layout *out, uint64_t *version, int *ft,
			      char *err, size_t errcap);

#endif /* PYSPY_CAPTURE_PYTHON_LAYOUT_H */
