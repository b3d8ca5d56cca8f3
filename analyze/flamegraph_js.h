/*
 * flamegraph_js.h - style sheet and script embedded in flame graph SVGs
 * (flamegraph_js.c has the details).
 */
#ifndef PYSPY_ANALYZE_FLAMEGRAPH_JS_H
#define PYSPY_ANALYZE_FLAMEGRAPH_JS_H

extern const char flamegraph_css[];
extern const char flamegraph_js[];

#endif /* PYSPY_ANALYZE_FLAMEGRAPH_JS_H */
