/*
 * elfweaken FILE VERSION SYMBOL
 *
 * Rewrites an x86-64 shared object in place so that it no longer insists on a symbol version the
 * system's library lacks:
 *   - the version need VERSION (a vernaux entry) is marked weak (vna_flags |= VER_FLG_WEAK), so
 *     the dynamic loader tolerates its absence;
 *   - SYMBOL's version index is cleared to VER_NDX_GLOBAL, so it binds to any unversioned
 *     definition (the shim library).
 * Exit status: 0 patched, 3 already patched (nothing written), 1 error (message on stderr).
 * It refuses to run when any other symbol still needs VERSION: then a shim could not cover it.
 */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *image;
static long image_size;

static void *at(Elf64_Off offset, size_t length)
{
    if (offset > (Elf64_Off)image_size || length > (size_t)(image_size - (long)offset)) {
        fprintf(stderr, "elfweaken: offset %lu (+%zu) lies outside the file (%ld bytes)\n",
                (unsigned long)offset, length, image_size);
        exit(1);
    }
    return image + offset;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: elfweaken FILE VERSION SYMBOL\n");
        return 1;
    }
    const char *path = argv[1], *version = argv[2], *symbol = argv[3];
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return 1; }
    fseek(f, 0, SEEK_END);
    image_size = ftell(f);
    fseek(f, 0, SEEK_SET);
    image = malloc((size_t)image_size);
    if (!image || fread(image, 1, (size_t)image_size, f) != (size_t)image_size) {
        fprintf(stderr, "elfweaken: cannot read %s\n", path);
        return 1;
    }
    fclose(f);

    Elf64_Ehdr *eh = at(0, sizeof *eh);
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_ident[EI_DATA] != ELFDATA2LSB) {
        fprintf(stderr, "elfweaken: %s is not a little-endian 64-bit ELF file\n", path);
        return 1;
    }
    Elf64_Shdr *sh = at(eh->e_shoff, (size_t)eh->e_shnum * sizeof *sh);
    Elf64_Shdr *dynsym = NULL, *versym = NULL, *verneed = NULL;
    for (int i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type == SHT_DYNSYM) dynsym = &sh[i];
        else if (sh[i].sh_type == SHT_GNU_versym) versym = &sh[i];
        else if (sh[i].sh_type == SHT_GNU_verneed) verneed = &sh[i];
    }
    if (!dynsym || !versym || !verneed) {
        fprintf(stderr, "elfweaken: %s has no dynamic symbol versioning sections\n", path);
        return 1;
    }
    const char *dynstr = at(sh[dynsym->sh_link].sh_offset, sh[dynsym->sh_link].sh_size);
    const char *verstr = at(sh[verneed->sh_link].sh_offset, sh[verneed->sh_link].sh_size);

    /* Find the vernaux entry for VERSION. */
    Elf64_Vernaux *aux_found = NULL;
    Elf64_Off need_off = verneed->sh_offset;
    for (;;) {
        Elf64_Verneed *vn = at(need_off, sizeof *vn);
        Elf64_Off aux_off = need_off + vn->vn_aux;
        for (int a = 0; a < vn->vn_cnt; a++) {
            Elf64_Vernaux *va = at(aux_off, sizeof *va);
            if (strcmp(verstr + va->vna_name, version) == 0) aux_found = va;
            if (!va->vna_next) break;
            aux_off += va->vna_next;
        }
        if (!vn->vn_next) break;
        need_off += vn->vn_next;
    }
    if (!aux_found) {
        fprintf(stderr, "elfweaken: %s does not need version %s\n", path, version);
        return 1;
    }
    Elf64_Half index = aux_found->vna_other;

    size_t count = dynsym->sh_size / sizeof(Elf64_Sym);
    Elf64_Sym *syms = at(dynsym->sh_offset, count * sizeof(Elf64_Sym));
    Elf64_Half *vers = at(versym->sh_offset, count * sizeof(Elf64_Half));
    int cleared = 0;
    for (size_t i = 0; i < count; i++) {
        if ((vers[i] & 0x7fff) != index) continue;
        const char *name = dynstr + syms[i].st_name;
        if (strcmp(name, symbol) != 0) {
            fprintf(stderr, "elfweaken: %s also needs %s@%s; a shim for %s alone would not cover it\n",
                    path, name, version, symbol);
            return 1;
        }
        vers[i] = VER_NDX_GLOBAL;
        cleared++;
    }
    if (cleared == 0 && (aux_found->vna_flags & VER_FLG_WEAK)) return 3;
    aux_found->vna_flags |= VER_FLG_WEAK;

    f = fopen(path, "r+b");
    if (!f || fwrite(image, 1, (size_t)image_size, f) != (size_t)image_size || fclose(f) != 0) {
        fprintf(stderr, "elfweaken: cannot write %s\n", path);
        return 1;
    }
    return 0;
}
