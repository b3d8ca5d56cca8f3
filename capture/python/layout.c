/*
 * layout.c - per-version CPython layouts (see layout.h).
 *
 * Values for 2.7 and 3.6 - 3.12 were measured with offsetof() against each
 * version's own headers (x86_64, GIL build); see docs/capture.md.
 */
#include "python/layout.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

/* Fields every 3.x table shares; a macro keeps the tables short. */
#define PY3_OBJECTS \
	.ob_type = 8, .tp_name = 24, .tp_flags = 168, .tp_basicsize = 32, \
	.tp_dictoffset = 288, .md_dict = 16, .bytes_size = 16, .bytes_sval = 32, \
	.str_length = 16, .str_state = 32, .str_kind_shift = 2, .str_compact_bit = 5, \
	.str_ascii_bit = 6, .long_size = 16, .long_digits = 24, .dict_keys = 32, \
	.dict_values = 40, .tuple_item = 24, .list_item = 24, .float_fval = 16, \
	.ob_size = 16, .dict_used = 16, .thread_name_attr = "_name", .thread_bootstrap = "_bootstrap"

/* _PyStackChunk, unchanged since 3.11: previous, size, top, data[]. */
#define STACK_CHUNK .chunk_size = 8, .chunk_top = 16, .chunk_data = 24

#define NO_INTERP_FRAMES \
	.if_code = -1, .if_previous = -1, .if_instr = -1, .if_owner = -1, .if_localsplus = -1, \
	.co_localspluskinds = -1

#define NO_311_THREAD \
	.ts_cframe = -1, .cf_current_frame = -1, .ts_current_frame = -1, \
	.ts_native_thread_id = -1, .ts_datastack_chunk = -1, .ts_datastack_top = -1, \
	.ts_holds_gil = -1, .ts_gil_requested = -1, .ts_base_frame = -1

static const struct py_layout py_layout_2_7 = {
	.major = 2, .minor = 7,
	.rt_interp_head = -1, .rt_tstate_current = -1,
	.is_next = 0, .is_threads_head = 8, .is_id = -1, .is_modules = 16,
	.is_ceval_gil = -1, .is_code_gen = -1, .gil_holder = -1, .gil_locked = -1,
	.ts_next = 0, .ts_interp = 8, .ts_frame = 16, .ts_thread_id = 144, .ts_read = 152,
	NO_311_THREAD,
	.f_back = 24, .f_code = 32, .f_lasti = 120, .f_read = 124, .f_localsplus = 376,
	NO_INTERP_FRAMES,
	.co_name = 88, .co_qualname = -1, .co_filename = 80, .co_firstlineno = 96,
	.co_linetable = 104, .co_code_adaptive = -1, .co_version = -1,
	.co_flags = 28, .co_argcount = 16, .co_read = 112,
	.co_kwonlyargcount = -1, .co_nlocals = 20, .co_varnames = 56, .co_cellvars = 72, .co_freevars = 64,
	.ob_type = 8, .tp_name = 24, .tp_flags = 168, .tp_basicsize = 32,
	.tp_dictoffset = 288, .ht_cached_keys = -1, .md_dict = 16,
	.bytes_size = 16, .bytes_sval = 36,
	.str_length = 16, .str_state = -1, .unicode_27 = 1,
	.long_size = 16, .long_digits = 24,
	.tuple_item = 24, .list_item = 24, .float_fval = 16,
	.dict_keys = 32, .dict_values = 40, .dict_kind = PY_DICT_27,
	.ob_size = 16, .dict_used = 24,   /* after ma_fill */
	.thread_name_attr = "_Thread__name", .thread_bootstrap = "__bootstrap",   /* name mangling */
	.attrs_kind = PY_ATTRS_DICTOFFSET,
	.frames = PY_FRAMES_OBJECT, .lines = PY_LINES_LNOTAB27, .gil = PY_GIL_SYMBOL,
};

static const struct py_layout py_layout_3_6 = {
	.major = 3, .minor = 6,
	.rt_interp_head = -1, .rt_tstate_current = -1,
	.is_next = 0, .is_threads_head = 8, .is_id = -1, .is_modules = 16,
	.is_ceval_gil = -1, .is_code_gen = -1, .gil_holder = -1, .gil_locked = -1,
	.ts_next = 8, .ts_interp = 16, .ts_frame = 24, .ts_thread_id = 152, .ts_read = 160,
	NO_311_THREAD,
	.f_back = 24, .f_code = 32, .f_lasti = 120, .f_read = 124, .f_localsplus = 376,
	NO_INTERP_FRAMES,
	.co_name = 104, .co_qualname = -1, .co_filename = 96, .co_firstlineno = 36,
	.co_linetable = 112, .co_code_adaptive = -1, .co_version = -1,
	.co_flags = 32, .co_argcount = 16, .co_read = 120,
	.co_kwonlyargcount = 20, .co_nlocals = 24, .co_varnames = 64, .co_cellvars = 80, .co_freevars = 72,
	PY3_OBJECTS, .ht_cached_keys = 856, .str_ascii_size = 48, .str_compact_size = 72,
	.dict_kind = PY_DICT_36, .attrs_kind = PY_ATTRS_DICTOFFSET,
	.frames = PY_FRAMES_OBJECT, .lines = PY_LINES_LNOTAB, .gil = PY_GIL_SYMBOL,
};

static const struct py_layout py_layout_3_7 = {
	.major = 3, .minor = 7,
	.rt_interp_head = 24, .rt_tstate_current = 1480,
	.is_next = 0, .is_threads_head = 8, .is_id = 16, .is_modules = 40,
	.is_ceval_gil = -1, .is_code_gen = -1, .gil_holder = -1, .gil_locked = -1,
	.ts_next = 8, .ts_interp = 16, .ts_frame = 24, .ts_thread_id = 176, .ts_read = 184,
	NO_311_THREAD,
	.f_back = 24, .f_code = 32, .f_lasti = 104, .f_read = 108, .f_localsplus = 360,
	NO_INTERP_FRAMES,
	.co_name = 104, .co_qualname = -1, .co_filename = 96, .co_firstlineno = 36,
	.co_linetable = 112, .co_code_adaptive = -1, .co_version = -1,
	.co_flags = 32, .co_argcount = 16, .co_read = 120,
	.co_kwonlyargcount = 20, .co_nlocals = 24, .co_varnames = 64, .co_cellvars = 80, .co_freevars = 72,
	PY3_OBJECTS, .ht_cached_keys = 856, .str_ascii_size = 48, .str_compact_size = 72,
	.dict_kind = PY_DICT_36, .attrs_kind = PY_ATTRS_DICTOFFSET,
	.frames = PY_FRAMES_OBJECT, .lines = PY_LINES_LNOTAB, .gil = PY_GIL_RUNTIME,
};

/* 3.7.0 - 3.7.3: _PyRuntimeState changed in 3.7.4 (a patch release). */
static const struct py_layout py_layout_3_7_0 = {
	.major = 3, .minor = 7,
	.rt_interp_head = 24, .rt_tstate_current = 1392,
	.is_next = 0, .is_threads_head = 8, .is_id = 16, .is_modules = 40,
	.is_ceval_gil = -1, .is_code_gen = -1, .gil_holder = -1, .gil_locked = -1,
	.ts_next = 8, .ts_interp = 16, .ts_frame = 24, .ts_thread_id = 176, .ts_read = 184,
	NO_311_THREAD,
	.f_back = 24, .f_code = 32, .f_lasti = 104, .f_read = 108, .f_localsplus = 360,
	NO_INTERP_FRAMES,
	.co_name = 104, .co_qualname = -1, .co_filename = 96, .co_firstlineno = 36,
	.co_linetable = 112, .co_code_adaptive = -1, .co_version = -1,
	.co_flags = 32, .co_argcount = 16, .co_read = 120,
	.co_kwonlyargcount = 20, .co_nlocals = 24, .co_varnames = 64, .co_cellvars = 80, .co_freevars = 72,
	PY3_OBJECTS, .ht_cached_keys = 856, .str_ascii_size = 48, .str_compact_size = 72,
	.dict_kind = PY_DICT_36, .attrs_kind = PY_ATTRS_DICTOFFSET,
	.frames = PY_FRAMES_OBJECT, .lines = PY_LINES_LNOTAB, .gil = PY_GIL_RUNTIME,
};

static const struct py_layout py_layout_3_8 = {
	.major = 3, .minor = 8,
	.rt_interp_head = 32, .rt_tstate_current = 1368,
	.is_next = 0, .is_threads_head = 8, .is_id = 16, .is_modules = 56,
	.is_ceval_gil = -1, .is_code_gen = -1, .gil_holder = -1, .gil_locked = -1,
	.ts_next = 8, .ts_interp = 16, .ts_frame = 24, .ts_thread_id = 176, .ts_read = 184,
	NO_311_THREAD,
	.f_back = 24, .f_code = 32, .f_lasti = 104, .f_read = 108, .f_localsplus = 360,
	NO_INTERP_FRAMES,
	.co_name = 112, .co_qualname = -1, .co_filename = 104, .co_firstlineno = 40,
	.co_linetable = 120, .co_code_adaptive = -1, .co_version = -1,
	.co_flags = 36, .co_argcount = 16, .co_read = 128,
	.co_kwonlyargcount = 24, .co_nlocals = 28, .co_varnames = 72, .co_cellvars = 88, .co_freevars = 80,
	PY3_OBJECTS, .ht_cached_keys = 872, .str_ascii_size = 48, .str_compact_size = 72,
	.dict_kind = PY_DICT_36, .attrs_kind = PY_ATTRS_DICTOFFSET,
	.frames = PY_FRAMES_OBJECT, .lines = PY_LINES_LNOTAB, .gil = PY_GIL_RUNTIME,
};

static const struct py_layout py_layout_3_9 = {
	.major = 3, .minor = 9,
	.rt_interp_head = 32, .rt_tstate_current = 568,
	.is_next = 0, .is_threads_head = 8, .is_id = 24, .is_modules = 856,
	.is_ceval_gil = -1, .is_code_gen = -1, .gil_holder = -1, .gil_locked = -1,
	.ts_next = 8, .ts_interp = 16, .ts_frame = 24, .ts_thread_id = 176, .ts_read = 184,
	NO_311_THREAD,
	.f_back = 24, .f_code = 32, .f_lasti = 104, .f_read = 108, .f_localsplus = 360,
	NO_INTERP_FRAMES,
	.co_name = 112, .co_qualname = -1, .co_filename = 104, .co_firstlineno = 40,
	.co_linetable = 120, .co_code_adaptive = -1, .co_version = -1,
	.co_flags = 36, .co_argcount = 16, .co_read = 128,
	.co_kwonlyargcount = 24, .co_nlocals = 28, .co_varnames = 72, .co_cellvars = 88, .co_freevars = 80,
	PY3_OBJECTS, .ht_cached_keys = 864, .str_ascii_size = 48, .str_compact_size = 72,
	.dict_kind = PY_DICT_36, .attrs_kind = PY_ATTRS_DICTOFFSET,
	.frames = PY_FRAMES_OBJECT, .lines = PY_LINES_LNOTAB, .gil = PY_GIL_RUNTIME,
};

static const struct py_layout py_layout_3_10 = {
	.major = 3, .minor = 10,
	.rt_interp_head = 32, .rt_tstate_current = 568,
	.is_next = 0, .is_threads_head = 8, .is_id = 24, .is_modules = 856,
	.is_ceval_gil = -1, .is_code_gen = -1, .gil_holder = -1, .gil_locked = -1,
	.ts_next = 8, .ts_interp = 16, .ts_frame = 24, .ts_thread_id = 176, .ts_read = 184,
	NO_311_THREAD,
	.f_back = 24, .f_code = 32, .f_lasti = 96, .f_read = 100, .f_localsplus = 352,
	NO_INTERP_FRAMES,
	.co_name = 112, .co_qualname = -1, .co_filename = 104, .co_firstlineno = 40,
	.co_linetable = 120, .co_code_adaptive = -1, .co_version = -1,
	.co_flags = 36, .co_argcount = 16, .co_read = 128,
	.co_kwonlyargcount = 24, .co_nlocals = 28, .co_varnames = 72, .co_cellvars = 88, .co_freevars = 80,
	PY3_OBJECTS, .ht_cached_keys = 872, .str_ascii_size = 48, .str_compact_size = 72,
	.dict_kind = PY_DICT_36, .attrs_kind = PY_ATTRS_DICTOFFSET,
	.frames = PY_FRAMES_OBJECT, .lines = PY_LINES_310, .gil = PY_GIL_RUNTIME,
};

static const struct py_layout py_layout_3_11 = {
	.major = 3, .minor = 11,
	.rt_interp_head = 40, .rt_tstate_current = 576,
	.is_next = 0, .is_threads_head = 16, .is_id = 48, .is_modules = 888,
	.is_ceval_gil = -1, .is_code_gen = -1, .gil_holder = -1, .gil_locked = -1,
	.ts_next = 8, .ts_interp = 16, .ts_frame = -1, .ts_cframe = 56, .cf_current_frame = 8,
	.ts_current_frame = -1, .ts_thread_id = 152, .ts_native_thread_id = 160,
	.ts_datastack_chunk = 296, .ts_datastack_top = 304,
	.ts_holds_gil = -1, .ts_gil_requested = -1, .ts_base_frame = -1, .ts_read = 312,
	.f_back = -1, .f_code = -1, .f_lasti = -1, .f_localsplus = -1,
	.if_code = 32, .if_previous = 48, .if_instr = 56, .if_owner = 69, .if_size = 80, .if_localsplus = 72,
	.if_owner_max = 3, STACK_CHUNK,
	.co_name = 120, .co_qualname = 128, .co_filename = 112, .co_firstlineno = 72,
	.co_linetable = 136, .co_code_adaptive = 184, .co_version = -1,
	.co_flags = 48, .co_argcount = 56, .co_read = 144,
	.co_kwonlyargcount = 64, .co_nlocals = 80, .co_varnames = 96, .co_cellvars = -1,
	.co_freevars = -1, .co_localspluskinds = 104,
	PY3_OBJECTS, .ht_cached_keys = 872, .str_ascii_size = 48, .str_compact_size = 72,
	.dict_kind = PY_DICT_311, .attrs_kind = PY_ATTRS_311,
	.frames = PY_FRAMES_INTERP, .lines = PY_LINES_PEP657, .gil = PY_GIL_RUNTIME,
};

static const struct py_layout py_layout_3_12 = {
	.major = 3, .minor = 12,
	.rt_interp_head = 40, .rt_tstate_current = -1,
	.is_next = 0, .is_threads_head = 72, .is_id = 8, .is_modules = 944,
	.is_ceval_gil = 384, .is_code_gen = -1, .gil_holder = 8, .gil_locked = 16,
	.ts_next = 8, .ts_interp = 16, .ts_frame = -1, .ts_cframe = 56, .cf_current_frame = 0,
	.ts_current_frame = -1, .ts_thread_id = 136, .ts_native_thread_id = 144,
	.ts_datastack_chunk = 232, .ts_datastack_top = 240,
	.ts_holds_gil = -1, .ts_gil_requested = -1, .ts_base_frame = -1, .ts_read = 248,
	.f_back = -1, .f_code = -1, .f_lasti = -1, .f_localsplus = -1,
	.if_code = 0, .if_previous = 8, .if_instr = 56, .if_owner = 70, .if_size = 80, .if_localsplus = 72,
	.owner_skip_min = 3, .owner_skip_only = 1, .if_owner_max = 3, STACK_CHUNK,
	.refcnt_low32 = 1, .func_version_epoch = 1,
	.co_name = 120, .co_qualname = 128, .co_filename = 112, .co_firstlineno = 68,
	.co_linetable = 136, .co_code_adaptive = 192, .co_version = 92,
	.co_flags = 48, .co_argcount = 52, .co_read = 144,
	.co_kwonlyargcount = 60, .co_nlocals = 80, .co_varnames = 96, .co_cellvars = -1,
	.co_freevars = -1, .co_localspluskinds = 104,
	PY3_OBJECTS, .ht_cached_keys = 880, .str_ascii_size = 40, .str_compact_size = 56,
	.long_tagged = 1,
	.dict_kind = PY_DICT_311, .attrs_kind = PY_ATTRS_312,
	.frames = PY_FRAMES_INTERP, .lines = PY_LINES_PEP657, .gil = PY_GIL_INTERP,
};

const struct py_layout *layout_for(int major, int minor, int micro)
{
	if (major == 2)
		return minor == 7 ? &py_layout_2_7 : NULL;
	if (major != 3)
		return NULL;
	switch (minor) {
	case 6: return &py_layout_3_6;
	case 7: return micro >= 0 && micro < 4 ? &py_layout_3_7_0 : &py_layout_3_7;
	case 8: return &py_layout_3_8;
	case 9: return &py_layout_3_9;
	case 10: return &py_layout_3_10;
	case 11: return &py_layout_3_11;
	case 12: return &py_layout_3_12;
	default: return NULL;
	}
}

/* ---------------------------------------------------------------- 3.13+ */

/* Fields of _Py_DebugOffsets, in the order each minor lays them out. */
enum dof {
	D_VERSION, D_FREE_THREADED,
	D_RT_SIZE, D_RT_FINALIZING, D_RT_INTERP_HEAD,
	D_IS_SIZE, D_IS_ID, D_IS_NEXT, D_IS_THREADS_HEAD, D_IS_THREADS_MAIN, D_IS_GC,
	D_IS_MODULES, D_IS_SYSDICT, D_IS_BUILTINS, D_IS_CEVAL_GIL, D_IS_GIL_RS,
	D_IS_GIL_ENABLED, D_IS_GIL_LOCKED, D_IS_GIL_HOLDER, D_IS_CODE_GEN, D_IS_TLBC_GEN,
	D_TS_SIZE, D_TS_PREV, D_TS_NEXT, D_TS_INTERP, D_TS_CURRENT_FRAME, D_TS_BASE_FRAME,
	D_TS_LAST_PROFILED, D_TS_LAST_PROFILED_SEQ, D_TS_THREAD_ID, D_TS_NATIVE_ID,
	D_TS_DATASTACK, D_TS_STATUS, D_TS_HOLDS_GIL, D_TS_GIL_REQUESTED,
	D_TS_CUR_EXC, D_TS_EXC_STATE, D_ERR_EXC_VALUE,
	D_IF_SIZE, D_IF_PREVIOUS, D_IF_EXECUTABLE, D_IF_INSTR, D_IF_LOCALSPLUS, D_IF_OWNER,
	D_IF_STACKPOINTER, D_IF_TLBC,
	D_CO_SIZE, D_CO_FILENAME, D_CO_NAME, D_CO_QUALNAME, D_CO_LINETABLE, D_CO_FIRSTLINENO,
	D_CO_ARGCOUNT, D_CO_LOCALSPLUSNAMES, D_CO_LOCALSPLUSKINDS, D_CO_CODE_ADAPTIVE, D_CO_TLBC,
	D_OB_SIZE, D_OB_TYPE,
	D_TP_SIZE, D_TP_NAME, D_TP_REPR, D_TP_FLAGS, D_TP_BASICSIZE, D_TP_DICTOFFSET,
	D_HT_SIZE, D_HT_CACHED_KEYS,
	D_TUPLE_SIZE, D_TUPLE_ITEM, D_TUPLE_OBSIZE,
	D_LIST_SIZE, D_LIST_ITEM, D_LIST_OBSIZE,
	D_SET_SIZE, D_SET_USED, D_SET_TABLE, D_SET_MASK,
	D_DICT_SIZE, D_DICT_KEYS, D_DICT_VALUES,
	D_FLOAT_SIZE, D_FLOAT_FVAL,
	D_LONG_SIZE, D_LONG_TAG, D_LONG_DIGIT,
	D_BYTES_SIZE, D_BYTES_OBSIZE, D_BYTES_SVAL,
	D_STR_SIZE, D_STR_STATE, D_STR_LENGTH, D_STR_ASCII_SIZE, D_STR_COMPACT_SIZE,
	D_GC_SIZE, D_GC_COLLECTING, D_GC_FRAME, D_GC_STATS_SIZE, D_GC_STATS,
	D_GEN_SIZE, D_GEN_NAME, D_GEN_IFRAME, D_GEN_STATE,
	D_LL_NEXT, D_LL_PREV,
	D_DBG_EVAL_BREAKER, D_DBG_SUPPORT, D_DBG_ENABLED, D_DBG_PENDING, D_DBG_PATH,
	D_DBG_PATH_SIZE,
	D_COUNT_
};

static const uint8_t dof_313[] = {
	D_VERSION, D_FREE_THREADED,
	D_RT_SIZE, D_RT_FINALIZING, D_RT_INTERP_HEAD,
	D_IS_SIZE, D_IS_ID, D_IS_NEXT, D_IS_THREADS_HEAD, D_IS_GC, D_IS_MODULES, D_IS_SYSDICT,
	D_IS_BUILTINS, D_IS_CEVAL_GIL, D_IS_GIL_RS, D_IS_GIL_ENABLED, D_IS_GIL_LOCKED,
	D_IS_GIL_HOLDER,
	D_TS_SIZE, D_TS_PREV, D_TS_NEXT, D_TS_INTERP, D_TS_CURRENT_FRAME, D_TS_THREAD_ID,
	D_TS_NATIVE_ID, D_TS_DATASTACK, D_TS_STATUS,
	D_IF_SIZE, D_IF_PREVIOUS, D_IF_EXECUTABLE, D_IF_INSTR, D_IF_LOCALSPLUS, D_IF_OWNER,
	D_CO_SIZE, D_CO_FILENAME, D_CO_NAME, D_CO_QUALNAME, D_CO_LINETABLE, D_CO_FIRSTLINENO,
	D_CO_ARGCOUNT, D_CO_LOCALSPLUSNAMES, D_CO_LOCALSPLUSKINDS, D_CO_CODE_ADAPTIVE,
	D_OB_SIZE, D_OB_TYPE,
	D_TP_SIZE, D_TP_NAME, D_TP_REPR, D_TP_FLAGS,
	D_TUPLE_SIZE, D_TUPLE_ITEM, D_TUPLE_OBSIZE,
	D_LIST_SIZE, D_LIST_ITEM, D_LIST_OBSIZE,
	D_DICT_SIZE, D_DICT_KEYS, D_DICT_VALUES,
	D_FLOAT_SIZE, D_FLOAT_FVAL,
	D_LONG_SIZE, D_LONG_TAG, D_LONG_DIGIT,
	D_BYTES_SIZE, D_BYTES_OBSIZE, D_BYTES_SVAL,
	D_STR_SIZE, D_STR_STATE, D_STR_LENGTH, D_STR_ASCII_SIZE,
	D_GC_SIZE, D_GC_COLLECTING,
};

static const uint8_t dof_314[] = {
	D_VERSION, D_FREE_THREADED,
	D_RT_SIZE, D_RT_FINALIZING, D_RT_INTERP_HEAD,
	D_IS_SIZE, D_IS_ID, D_IS_NEXT, D_IS_THREADS_HEAD, D_IS_THREADS_MAIN, D_IS_GC,
	D_IS_MODULES, D_IS_SYSDICT, D_IS_BUILTINS, D_IS_CEVAL_GIL, D_IS_GIL_RS,
	D_IS_GIL_ENABLED, D_IS_GIL_LOCKED, D_IS_GIL_HOLDER, D_IS_CODE_GEN, D_IS_TLBC_GEN,
	D_TS_SIZE, D_TS_PREV, D_TS_NEXT, D_TS_INTERP, D_TS_CURRENT_FRAME, D_TS_THREAD_ID,
	D_TS_NATIVE_ID, D_TS_DATASTACK, D_TS_STATUS,
	D_IF_SIZE, D_IF_PREVIOUS, D_IF_EXECUTABLE, D_IF_INSTR, D_IF_LOCALSPLUS, D_IF_OWNER,
	D_IF_STACKPOINTER, D_IF_TLBC,
	D_CO_SIZE, D_CO_FILENAME, D_CO_NAME, D_CO_QUALNAME, D_CO_LINETABLE, D_CO_FIRSTLINENO,
	D_CO_ARGCOUNT, D_CO_LOCALSPLUSNAMES, D_CO_LOCALSPLUSKINDS, D_CO_CODE_ADAPTIVE,
	D_CO_TLBC,
	D_OB_SIZE, D_OB_TYPE,
	D_TP_SIZE, D_TP_NAME, D_TP_REPR, D_TP_FLAGS,
	D_TUPLE_SIZE, D_TUPLE_ITEM, D_TUPLE_OBSIZE,
	D_LIST_SIZE, D_LIST_ITEM, D_LIST_OBSIZE,
	D_SET_SIZE, D_SET_USED, D_SET_TABLE, D_SET_MASK,
	D_DICT_SIZE, D_DICT_KEYS, D_DICT_VALUES,
	D_FLOAT_SIZE, D_FLOAT_FVAL,
	D_LONG_SIZE, D_LONG_TAG, D_LONG_DIGIT,
	D_BYTES_SIZE, D_BYTES_OBSIZE, D_BYTES_SVAL,
	D_STR_SIZE, D_STR_STATE, D_STR_LENGTH, D_STR_ASCII_SIZE,
	D_GC_SIZE, D_GC_COLLECTING,
	D_GEN_SIZE, D_GEN_NAME, D_GEN_IFRAME, D_GEN_STATE,
	D_LL_NEXT, D_LL_PREV,
	D_DBG_EVAL_BREAKER, D_DBG_SUPPORT, D_DBG_ENABLED, D_DBG_PENDING, D_DBG_PATH,
	D_DBG_PATH_SIZE,
};

static const uint8_t dof_315[] = {
	D_VERSION, D_FREE_THREADED,
	D_RT_SIZE, D_RT_FINALIZING, D_RT_INTERP_HEAD,
	D_IS_SIZE, D_IS_ID, D_IS_NEXT, D_IS_THREADS_HEAD, D_IS_THREADS_MAIN, D_IS_GC,
	D_IS_MODULES, D_IS_SYSDICT, D_IS_BUILTINS, D_IS_CEVAL_GIL, D_IS_GIL_RS,
	D_IS_GIL_ENABLED, D_IS_GIL_LOCKED, D_IS_GIL_HOLDER, D_IS_CODE_GEN, D_IS_TLBC_GEN,
	D_TS_SIZE, D_TS_PREV, D_TS_NEXT, D_TS_INTERP, D_TS_CURRENT_FRAME, D_TS_BASE_FRAME,
	D_TS_LAST_PROFILED, D_TS_LAST_PROFILED_SEQ, D_TS_THREAD_ID, D_TS_NATIVE_ID,
	D_TS_DATASTACK, D_TS_STATUS, D_TS_HOLDS_GIL, D_TS_GIL_REQUESTED, D_TS_CUR_EXC,
	D_TS_EXC_STATE,
	D_ERR_EXC_VALUE,
	D_IF_SIZE, D_IF_PREVIOUS, D_IF_EXECUTABLE, D_IF_INSTR, D_IF_LOCALSPLUS, D_IF_OWNER,
	D_IF_STACKPOINTER, D_IF_TLBC,
	D_CO_SIZE, D_CO_FILENAME, D_CO_NAME, D_CO_QUALNAME, D_CO_LINETABLE, D_CO_FIRSTLINENO,
	D_CO_ARGCOUNT, D_CO_LOCALSPLUSNAMES, D_CO_LOCALSPLUSKINDS, D_CO_CODE_ADAPTIVE,
	D_CO_TLBC,
	D_OB_SIZE, D_OB_TYPE,
	D_TP_SIZE, D_TP_NAME, D_TP_REPR, D_TP_FLAGS, D_TP_BASICSIZE, D_TP_DICTOFFSET,
	D_HT_SIZE, D_HT_CACHED_KEYS,
	D_TUPLE_SIZE, D_TUPLE_ITEM, D_TUPLE_OBSIZE,
	D_LIST_SIZE, D_LIST_ITEM, D_LIST_OBSIZE,
	D_SET_SIZE, D_SET_USED, D_SET_TABLE, D_SET_MASK,
	D_DICT_SIZE, D_DICT_KEYS, D_DICT_VALUES,
	D_FLOAT_SIZE, D_FLOAT_FVAL,
	D_LONG_SIZE, D_LONG_TAG, D_LONG_DIGIT,
	D_BYTES_SIZE, D_BYTES_OBSIZE, D_BYTES_SVAL,
	D_STR_SIZE, D_STR_STATE, D_STR_LENGTH, D_STR_ASCII_SIZE, D_STR_COMPACT_SIZE,
	D_GC_SIZE, D_GC_COLLECTING, D_GC_FRAME, D_GC_STATS_SIZE, D_GC_STATS,
	D_GEN_SIZE, D_GEN_NAME, D_GEN_IFRAME, D_GEN_STATE,
	D_LL_NEXT, D_LL_PREV,
	D_DBG_EVAL_BREAKER, D_DBG_SUPPORT, D_DBG_ENABLED, D_DBG_PENDING, D_DBG_PATH,
	D_DBG_PATH_SIZE,
};

static const uint8_t *dof_table(int minor, size_t *n)
{
	switch (minor) {
	case 13: *n = sizeof(dof_313); return dof_313;
	case 14: *n = sizeof(dof_314); return dof_314;
	case 15: *n = sizeof(dof_315); return dof_315;
	default: *n = 0; return NULL;
	}
}

size_t layout_debug_offsets_size(int minor)
{
	size_t n;

	if (!dof_table(minor, &n))
		return 0;
	return 8 + n * 8;
}

/* An offset that must lie inside a struct of the given size (no wrap-around: off comes from the target). */
static int in_struct(uint64_t off, uint64_t size, size_t width)
{
	return size > 0 && size < (1u << 24) && width <= size && off <= size - width;
}

int layout_from_debug_offsets(const uint8_t *buf, size_t len, int minor,
			      struct py_layout *L, uint64_t *version, int *ft,
			      char *err, size_t errcap)
{
	uint64_t d[D_COUNT_];
	const uint8_t *order;
	size_t n, i;
	int vmin;

	memset(d, 0xff, sizeof(d));
	order = dof_table(minor, &n);
	if (!order) {
		snprintf(err, errcap, "no _Py_DebugOffsets table for 3.%d", minor);
		return -1;
	}
	if (len < 8 + n * 8) {
		snprintf(err, errcap, "_Py_DebugOffsets block too short");
		return -1;
	}
	if (memcmp(buf, "xdebugpy", 8) != 0) {
		snprintf(err, errcap, "_Py_DebugOffsets cookie missing");
		return -1;
	}
	for (i = 0; i < n; i++)
		d[order[i]] = u64at(buf + 8 + i * 8);
	*version = d[D_VERSION];
	*ft = d[D_FREE_THREADED] != 0;
	vmin = (int)((d[D_VERSION] >> 16) & 0xff);
	if ((d[D_VERSION] >> 24) != 3 || vmin != minor) {
		snprintf(err, errcap, "_Py_DebugOffsets version 0x%08llx is not 3.%d",
			 (unsigned long long)d[D_VERSION], minor);
		return -1;
	}
	if (d[D_FREE_THREADED] > 1) {
		snprintf(err, errcap, "_Py_DebugOffsets free_threaded is %llu",
			 (unsigned long long)d[D_FREE_THREADED]);
		return -1;
	}
	if (*ft)
		return 0;   /* caller refuses; nothing below applies */
	/* Sanity: sizes and offsets within them. */
	if (!in_struct(d[D_RT_INTERP_HEAD], d[D_RT_SIZE], 8) ||
	    !in_struct(d[D_IS_THREADS_HEAD], d[D_IS_SIZE], 8) ||
	    !in_struct(d[D_IS_NEXT], d[D_IS_SIZE], 8) ||
	    !in_struct(d[D_IS_MODULES], d[D_IS_SIZE], 8) ||
	    !in_struct(d[D_IS_CEVAL_GIL], d[D_IS_SIZE], 8) ||
	    !in_struct(d[D_IS_GIL_HOLDER], d[D_IS_SIZE], 8) ||
	    !in_struct(d[D_IS_GIL_LOCKED], d[D_IS_SIZE], 4) ||
	    d[D_TS_SIZE] > 4096 ||
	    !in_struct(d[D_TS_NEXT], d[D_TS_SIZE], 8) ||
	    !in_struct(d[D_TS_INTERP], d[D_TS_SIZE], 8) ||
	    !in_struct(d[D_TS_CURRENT_FRAME], d[D_TS_SIZE], 8) ||
	    !in_struct(d[D_TS_THREAD_ID], d[D_TS_SIZE], 8) ||
	    !in_struct(d[D_TS_NATIVE_ID], d[D_TS_SIZE], 8) ||
	    !in_struct(d[D_TS_DATASTACK], d[D_TS_SIZE], 16) ||
	    (d[D_IF_SIZE] != 80 && d[D_IF_SIZE] != 88) ||
	    !in_struct(d[D_IF_PREVIOUS], d[D_IF_SIZE], 8) ||
	    !in_struct(d[D_IF_EXECUTABLE], d[D_IF_SIZE], 8) ||
	    !in_struct(d[D_IF_INSTR], d[D_IF_SIZE], 8) ||
	    !in_struct(d[D_IF_OWNER], d[D_IF_SIZE], 1) ||
	    d[D_CO_SIZE] < 128 || d[D_CO_SIZE] > 1024 ||
	    !in_struct(d[D_CO_NAME], d[D_CO_SIZE], 8) ||
	    !in_struct(d[D_CO_QUALNAME], d[D_CO_SIZE], 8) ||
	    !in_struct(d[D_CO_FILENAME], d[D_CO_SIZE], 8) ||
	    !in_struct(d[D_CO_LINETABLE], d[D_CO_SIZE], 8) ||
	    !in_struct(d[D_CO_FIRSTLINENO], d[D_CO_SIZE], 4) ||
	    !in_struct(d[D_CO_CODE_ADAPTIVE], d[D_CO_SIZE], 1) ||
	    d[D_OB_TYPE] != 8 || d[D_STR_ASCII_SIZE] < 32 || d[D_STR_ASCII_SIZE] > 128 ||
	    !in_struct(d[D_STR_STATE], d[D_STR_ASCII_SIZE], 4) ||
	    !in_struct(d[D_STR_LENGTH], d[D_STR_ASCII_SIZE], 8) ||
	    (minor >= 15 && !in_struct(d[D_TS_BASE_FRAME], d[D_TS_SIZE], 8)) ||
	    (minor >= 15 && !in_struct(d[D_TS_HOLDS_GIL], d[D_TS_SIZE], 4)) ||
	    (minor >= 15 && !in_struct(d[D_TS_GIL_REQUESTED], d[D_TS_SIZE], 4)) ||
	    (minor == 14 && (d[D_TS_STATUS] > 4096 || !in_struct(d[D_TS_STATUS] + 4, d[D_TS_SIZE], 4))) ||
	    /* Object fields are read from header copies of 96 bytes (pyproc,
	     * pyrepr), integers from 40 (pyobj_uint: three digits). */
	    d[D_LONG_TAG] > 24 || d[D_LONG_DIGIT] < d[D_LONG_TAG] + 8 || d[D_LONG_DIGIT] > 28 ||
	    d[D_BYTES_OBSIZE] > 80 || d[D_BYTES_SVAL] < d[D_BYTES_OBSIZE] + 8 || d[D_BYTES_SVAL] > 88 ||
	    d[D_DICT_KEYS] > 88 || d[D_DICT_VALUES] > 88 ||
	    /* the walkers copy a string header of compact size + 8 into 96 bytes */
	    (minor >= 15 ? d[D_STR_COMPACT_SIZE] < d[D_STR_ASCII_SIZE] || d[D_STR_COMPACT_SIZE] > 88
			 : d[D_STR_ASCII_SIZE] + 16 > 88) ||
	    (minor >= 14 && !in_struct(d[D_IS_CODE_GEN], d[D_IS_SIZE], 8))) {
		snprintf(err, errcap, "_Py_DebugOffsets of 3.%d hold implausible values", minor);
		return -1;
	}
	memset(L, 0, sizeof(*L));
	L->major = 3;
	L->minor = minor;
	L->rt_interp_head = (int32_t)d[D_RT_INTERP_HEAD];
	L->rt_tstate_current = -1;
	L->is_next = (int32_t)d[D_IS_NEXT];
	L->is_threads_head = (int32_t)d[D_IS_THREADS_HEAD];
	L->is_id = (int32_t)d[D_IS_ID];
	L->is_modules = (int32_t)d[D_IS_MODULES];
	L->is_ceval_gil = (int32_t)d[D_IS_CEVAL_GIL];
	L->is_code_gen = minor >= 14 ? (int32_t)d[D_IS_CODE_GEN] : -1;
	/* GIL fields are given for the interpreter's embedded _gil; the same
	 * in-struct offsets apply wherever ceval.gil points (shared GIL). */
	L->gil_holder = (int32_t)(d[D_IS_GIL_HOLDER] - d[D_IS_GIL_RS]);
	L->gil_locked = (int32_t)(d[D_IS_GIL_LOCKED] - d[D_IS_GIL_RS]);
	L->ts_next = (int32_t)d[D_TS_NEXT];
	L->ts_interp = (int32_t)d[D_TS_INTERP];
	L->ts_frame = -1;
	L->ts_cframe = -1;
	L->cf_current_frame = -1;
	L->ts_current_frame = (int32_t)d[D_TS_CURRENT_FRAME];
	L->ts_thread_id = (int32_t)d[D_TS_THREAD_ID];
	L->ts_native_thread_id = (int32_t)d[D_TS_NATIVE_ID];
	L->ts_datastack_chunk = (int32_t)d[D_TS_DATASTACK];
	L->ts_datastack_top = (int32_t)d[D_TS_DATASTACK] + 8;
	/* 3.14 has int holds_gil right after _status, but does not publish
	 * it; 3.15 does. */
	L->ts_holds_gil = minor >= 15 ? (int32_t)d[D_TS_HOLDS_GIL]
			: minor == 14 ? (int32_t)d[D_TS_STATUS] + 4 : -1;
	L->ts_gil_requested = minor >= 15 ? (int32_t)d[D_TS_GIL_REQUESTED] : -1;
	L->ts_base_frame = minor >= 15 ? (int32_t)d[D_TS_BASE_FRAME] : -1;
	{
		int32_t m = L->ts_datastack_top + 8;
		const int32_t f[] = { L->ts_next, L->ts_interp, L->ts_current_frame,
				      L->ts_thread_id, L->ts_native_thread_id,
				      L->ts_holds_gil, L->ts_gil_requested, L->ts_base_frame };
		for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
			if (f[i] >= 0 && f[i] + 8 > m)
				m = f[i] + 8;
		L->ts_read = (uint32_t)m;
	}
	L->f_back = L->f_code = L->f_lasti = L->f_localsplus = -1;
	L->if_code = (int32_t)d[D_IF_EXECUTABLE];
	L->if_localsplus = (int32_t)d[D_IF_LOCALSPLUS];
	L->if_previous = (int32_t)d[D_IF_PREVIOUS];
	L->if_instr = (int32_t)d[D_IF_INSTR];
	L->if_owner = (int32_t)d[D_IF_OWNER];
	L->if_size = (uint32_t)d[D_IF_SIZE];
	L->if_tagged = minor >= 14;
	L->owner_skip_min = 3;
	L->owner_skip_only = minor == 13;
	L->if_owner_max = minor >= 14 ? 4 : 3;   /* 3.14 added FRAME_OWNED_BY_INTERPRETER */
	L->if_exec_any = 1;
	L->chunk_size = 8;
	L->chunk_top = 16;
	L->chunk_data = 24;
	L->refcnt_low32 = 1;
	L->refcnt_flags = minor >= 14;
	L->ob_size = 16;
	L->dict_used = 16;
	L->thread_name_attr = "_name";
	L->thread_bootstrap = "_bootstrap";
	L->co_name = (int32_t)d[D_CO_NAME];
	L->co_qualname = (int32_t)d[D_CO_QUALNAME];
	L->co_filename = (int32_t)d[D_CO_FILENAME];
	L->co_firstlineno = (int32_t)d[D_CO_FIRSTLINENO];
	L->co_linetable = (int32_t)d[D_CO_LINETABLE];
	L->co_code_adaptive = (int32_t)d[D_CO_CODE_ADAPTIVE];
	L->co_argcount = (int32_t)d[D_CO_ARGCOUNT];
	L->co_flags = 48;
	/* Not published; unchanged since 3.12. */
	L->co_kwonlyargcount = 60;
	L->co_nlocals = 80;
	L->co_varnames = (int32_t)d[D_CO_LOCALSPLUSNAMES];
	L->co_localspluskinds = (int32_t)d[D_CO_LOCALSPLUSKINDS];
	L->co_cellvars = L->co_freevars = -1;
	/* co_version (unique per code object) is not published; 3.13 keeps
	 * it where 3.12 did.  3.14+ use the code object generation instead. */
	L->co_version = minor == 13 ? 92 : -1;
	{
		int32_t m = 0;
		const int32_t f[] = { L->co_name, L->co_qualname, L->co_filename,
				      L->co_firstlineno, L->co_linetable, L->co_version };
		for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
			if (f[i] + 8 > m)
				m = f[i] + 8;
		L->co_read = (uint32_t)m;
	}
	L->ob_type = 8;
	L->tp_name = (int32_t)d[D_TP_NAME];
	L->tp_flags = (int32_t)d[D_TP_FLAGS];
	L->tp_basicsize = minor >= 15 ? (int32_t)d[D_TP_BASICSIZE] : 32;
	L->tp_dictoffset = minor >= 15 ? (int32_t)d[D_TP_DICTOFFSET] : 288;
	L->ht_cached_keys = minor >= 15 ? (int32_t)d[D_HT_CACHED_KEYS] : 880;
	L->md_dict = 16;
	L->tuple_item = (int32_t)d[D_TUPLE_ITEM];
	L->list_item = (int32_t)d[D_LIST_ITEM];
	L->float_fval = (int32_t)d[D_FLOAT_FVAL];
	/* Only dumps with --locals use these: implausible values disable
	 * locals instead of refusing the interpreter. */
	if (!in_struct(d[D_IF_LOCALSPLUS], d[D_IF_SIZE], 8))
		L->if_localsplus = -1;
	if (!in_struct(d[D_CO_LOCALSPLUSNAMES], d[D_CO_SIZE], 8) ||
	    !in_struct(d[D_CO_LOCALSPLUSKINDS], d[D_CO_SIZE], 8) ||
	    !in_struct(d[D_CO_ARGCOUNT], d[D_CO_SIZE], 4))
		L->co_varnames = -1;
	if (!in_struct(d[D_TUPLE_ITEM], d[D_TUPLE_SIZE], 0) ||
	    !in_struct(d[D_LIST_ITEM], d[D_LIST_SIZE], 8) || d[D_LIST_ITEM] > 88 ||
	    !in_struct(d[D_FLOAT_FVAL], d[D_FLOAT_SIZE], 8) || d[D_FLOAT_FVAL] > 88)
		L->tuple_item = L->list_item = L->float_fval = -1;
	L->bytes_size = (int32_t)d[D_BYTES_OBSIZE];
	L->bytes_sval = (int32_t)d[D_BYTES_SVAL];
	L->str_length = (int32_t)d[D_STR_LENGTH];
	L->str_state = (int32_t)d[D_STR_STATE];
	L->str_ascii_size = (uint32_t)d[D_STR_ASCII_SIZE];
	L->str_compact_size = minor >= 15 ? (uint32_t)d[D_STR_COMPACT_SIZE]
					  : (uint32_t)d[D_STR_ASCII_SIZE] + 16;
	L->str_kind_shift = 2;
	L->str_compact_bit = 5;
	L->str_ascii_bit = 6;
	L->long_size = (int32_t)d[D_LONG_TAG];
	L->long_tagged = 1;
	L->long_digits = (int32_t)d[D_LONG_DIGIT];
	L->dict_keys = (int32_t)d[D_DICT_KEYS];
	L->dict_values = (int32_t)d[D_DICT_VALUES];
	L->dict_kind = PY_DICT_311;
	L->dict_values_hdr = 8;
	L->attrs_kind = PY_ATTRS_313;
	L->frames = PY_FRAMES_INTERP;
	L->lines = PY_LINES_PEP657;
	L->gil = PY_GIL_INTERP;
	return 0;
}
