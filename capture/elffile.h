/*
 * elffile.h - the few ELF facts the sampler needs (libelf): symbol values,
 * section addresses and the lowest PT_LOAD address (for the load bias).
 *
 * Files are opened by the caller (a target's files through
 * proc_open_mapped(), whatever its root and mount namespace) or by path.
 * Only the file is parsed;
 * nothing is ever executed.  Addresses are the file's own virtual
 * addresses; add the load bias to get run-time addresses.
 *
 * (Not "elf.h": with -Icapture that name would shadow the system <elf.h>
 * that libelf.h includes.)
 */
#ifndef PYSPY_CAPTURE_ELFFILE_H
#define PYSPY_CAPTURE_ELFFILE_H

#include <stddef.h>
#include <stdint.h>

struct elf_file;

struct elf_section {
	uint64_t vaddr, size;
	uint64_t offset;         /* file offset (meaningless for NOBITS) */
	int nobits;              /* SHT_NOBITS (.bss) */
};

/*
 * Open an ELF file.  Returns 0 and *out (free with elf_close()), or
 * -errno, -ENOEXEC when it is not a 64-bit little-endian ELF file.
 */
int elf_open(struct elf_file **out, const char *path);

/* The same on an open descriptor, which it takes ownership of (closed on failure too). */
int elf_open_fd(struct elf_file **out, int fd);

/* Accepts NULL. */
void elf_close(struct elf_file *e);

/* ET_EXEC (2) or ET_DYN (3). */
int elf_type(const struct elf_file *e);

/* Lowest PT_LOAD p_vaddr rounded down to its alignment (page). */
uint64_t elf_load_base(const struct elf_file *e);

/* 1 if the file has a .symtab (not stripped). */
int elf_has_symtab(const struct elf_file *e);

/*
 * Look up n symbols in one pass over .dynsym and .symtab: for each
 * names[i] found (defined, any binding), vaddr[i] (and size[i] if size is
 * not NULL) is set; missing ones are left 0.  Names may be "name" or match
 * a GCC local static such as "version.0" when given as "version.*".
 * With symtab == 0 only .dynsym is searched.  Returns the number found.
 */
int elf_symbols(struct elf_file *e, const char *const *names, size_t n,
		uint64_t *vaddr, uint64_t *size, int symtab);

/* Section by name; 0 or -ENOENT. */
int elf_section(struct elf_file *e, const char *name, struct elf_section *out);

/*
 * Read len bytes of the file image at virtual address vaddr (inside a
 * PT_LOAD segment's file part).  0 or -ENOENT / -EIO.
 */
int elf_read_vaddr(struct elf_file *e, uint64_t vaddr, void *buf, size_t len);

#endif /* PYSPY_CAPTURE_ELFFILE_H */
