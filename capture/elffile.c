/*
 * elffile.c - ELF lookups with libelf (see elffile.h).
 */
#include "elffile.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct elf_file {
	int fd;
	Elf *elf;
	int type;
	uint64_t load_base;
	int has_symtab;
};

int elf_open(struct elf_file **out, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		*out = NULL;
		return -errno;
	}
	return elf_open_fd(out, fd);
}

int elf_open_fd(struct elf_file **out, int fd)
{
	struct elf_file *e;
	GElf_Ehdr eh;
	size_t nph, i;
	Elf_Scn *scn = NULL;
	int first = 1;

	*out = NULL;
	if (elf_version(EV_CURRENT) == EV_NONE) {
		close(fd);
		return -ENOEXEC;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		close(fd);
		return -ENOMEM;
	}
	e->fd = fd;
	e->elf = elf_begin(e->fd, ELF_C_READ_MMAP, NULL);
	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF || !gelf_getehdr(e->elf, &eh) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB) {
		elf_close(e);
		return -ENOEXEC;
	}
	e->type = eh.e_type;
	if (elf_getphdrnum(e->elf, &nph) == 0) {
		for (i = 0; i < nph; i++) {
			GElf_Phdr ph;
			uint64_t a;
			if (!gelf_getphdr(e->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
				continue;
			a = ph.p_vaddr;
			if (ph.p_align > 1)
				a &= ~(ph.p_align - 1);
			else
				a &= ~(uint64_t)0xfff;
			if (first || a < e->load_base)
				e->load_base = a;
			first = 0;
		}
	}
	while ((scn = elf_nextscn(e->elf, scn)) != NULL) {
		GElf_Shdr sh;
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
			e->has_symtab = 1;
	}
	*out = e;
	return 0;
}

void elf_close(struct elf_file *e)
{
	if (!e)
		return;
	if (e->elf)
		elf_end(e->elf);
	if (e->fd >= 0)
		close(e->fd);
	free(e);
}

int elf_type(const struct elf_file *e)
{
	return e->type;
}

uint64_t elf_load_base(const struct elf_file *e)
{
	return e->load_base;
}

int elf_has_symtab(const struct elf_file *e)
{
	return e->has_symtab;
}

/* "version.*" matches "version.0", "version.123" (GCC local statics). */
static int name_match(const char *pat, const char *s)
{
	size_t n = strlen(pat);

	if (n >= 2 && pat[n - 1] == '*' && pat[n - 2] == '.') {
		const char *p;
		if (strncmp(pat, s, n - 1) != 0)
			return 0;
		p = s + n - 1;
		if (!*p)
			return 0;
		for (; *p; p++)
			if (*p < '0' || *p > '9')
				return 0;
		return 1;
	}
	return strcmp(pat, s) == 0;
}

int elf_symbols(struct elf_file *e, const char *const *names, size_t n,
		uint64_t *vaddr, uint64_t *size, int symtab)
{
	Elf_Scn *scn = NULL;
	int found = 0, pass;
	size_t k;

	for (k = 0; k < n; k++) {
		vaddr[k] = 0;
		if (size)
			size[k] = 0;
	}
	/* .dynsym first, then .symtab: exported values win. */
	for (pass = 0; pass < 2; pass++) {
		Elf64_Word want = pass == 0 ? SHT_DYNSYM : SHT_SYMTAB;
		if (pass == 1 && !symtab)
			break;
		scn = NULL;
		while ((scn = elf_nextscn(e->elf, scn)) != NULL) {
			GElf_Shdr sh;
			Elf_Data *d;
			size_t i, cnt;
			if (!gelf_getshdr(scn, &sh) || sh.sh_type != want || sh.sh_entsize == 0)
				continue;
			d = elf_getdata(scn, NULL);
			if (!d)
				continue;
			cnt = sh.sh_size / sh.sh_entsize;
			for (i = 1; i < cnt; i++) {
				GElf_Sym sym;
				const char *nm;
				if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx == SHN_UNDEF ||
				    sym.st_value == 0)
					continue;
				nm = elf_strptr(e->elf, sh.sh_link, sym.st_name);
				if (!nm || !*nm)
					continue;
				for (k = 0; k < n; k++) {
					if (vaddr[k] || !name_match(names[k], nm))
						continue;
					vaddr[k] = sym.st_value;
					if (size)
						size[k] = sym.st_size;
					found++;
				}
			}
		}
	}
	return found;
}

int elf_section(struct elf_file *e, const char *name, struct elf_section *out)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	memset(out, 0, sizeof(*out));
	if (elf_getshdrstrndx(e->elf, &shstrndx) != 0)
		return -ENOENT;
	while ((scn = elf_nextscn(e->elf, scn)) != NULL) {
		GElf_Shdr sh;
		const char *nm;
		if (!gelf_getshdr(scn, &sh))
			continue;
		nm = elf_strptr(e->elf, shstrndx, sh.sh_name);
		if (!nm || strcmp(nm, name) != 0)
			continue;
		out->vaddr = sh.sh_addr;
		out->size = sh.sh_size;
		out->offset = sh.sh_offset;
		out->nobits = sh.sh_type == SHT_NOBITS;
		return 0;
	}
	return -ENOENT;
}

int elf_read_vaddr(struct elf_file *e, uint64_t vaddr, void *buf, size_t len)
{
	size_t nph, i;

	if (elf_getphdrnum(e->elf, &nph) != 0)
		return -ENOENT;
	for (i = 0; i < nph; i++) {
		GElf_Phdr ph;
		ssize_t r;
		if (!gelf_getphdr(e->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (vaddr < ph.p_vaddr || vaddr + len > ph.p_vaddr + ph.p_filesz)
			continue;
		r = pread(e->fd, buf, len, (off_t)(ph.p_offset + (vaddr - ph.p_vaddr)));
		return r == (ssize_t)len ? 0 : -EIO;
	}
	return -ENOENT;
}
