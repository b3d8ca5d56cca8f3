#!/usr/bin/env python3
# Writes the seed corpus of fuzz_discover (tests/fuzz/corpus/discover/):
# small shared objects holding the symbols a CPython binary exports
# (Py_Version, _PyRuntime, interp_head, Py_GetVersion's version buffer),
# each followed by the target memory that makes discovery succeed for
# 2.7, 3.12 and 3.13 (_Py_DebugOffsets from tests/unit/debug_offsets.h);
# plus version strings, debug offsets, line tables and a string object.
# usage: tests/fuzz/make-discover-seeds.py   (needs cc and strip)
import os, re, struct, subprocess, sys, tempfile
ROOT=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SRC={
 'v312': """const unsigned long Py_Version = 0x030c01f0;
char _PyRuntime[256] = { 1 };
const char version_buf[] = "3.12.1 (main, Dec 7 2026) [GCC]";
""",
 'v27': """char interp_head[8];
char *PyString_Type[64];
const char *Py_GetVersion(void) { static char version[250] = "2.7.18 (default, Dec 7 2026) [GCC]"; return version; }
void *PyInterpreterState_Head(void) { return *(void **)interp_head; }
""",
 'v313': """struct { char cookie[8]; unsigned long v[80]; } _PyRuntime = { "xdebugpy", { 0x030d12f0 } };
const unsigned long Py_Version = 0x030d12f0;
""",
}
tmp=tempfile.mkdtemp()
for name,src in SRC.items():
    c=os.path.join(tmp,name+'.c'); so=os.path.join(tmp,name+'.so')
    open(c,'w').write(src)
    subprocess.check_call(['cc','-Os','-shared','-nostdlib','-fPIC','-Wl,--build-id=none',
        '-Wl,-z,noseparate-code','-Wl,-z,max-page-size=4096','-o',so,c])
    if name=='v27':
        subprocess.check_call(['cp',so,os.path.join(tmp,name+'.s.so')])
    else:
        subprocess.check_call(['strip','--strip-unneeded','-K','Py_Version','-K','_PyRuntime',so,
            '-o',os.path.join(tmp,name+'.s.so')])
# The layouts below assume these symbol addresses (checked):
def sym(so, name):
    out=subprocess.check_output(['nm',os.path.join(tmp,so)]).decode()
    return next(int(l.split()[0],16) for l in out.splitlines() if l.split()[-1]==name)
assert sym('v313.so','_PyRuntime')==0x2000 and sym('v27.so','interp_head')==0x2300, 'unexpected layout'
START=0x20000000
hdr=open(os.path.join(ROOT,'tests/unit/debug_offsets.h')).read()
def table(name):
    body=hdr[hdr.index(f'static const struct pos {name}[]'):]
    body=body[:body.index('};')]
    return [(int(a),int(b,0)) for a,b in re.findall(r'\{\s*(\d+),\s*(0x[0-9a-f]+|\d+)\s*\}',body) if int(a)]
def seed(elf, image):
    return bytes([0]) + struct.pack('<H', len(elf)) + elf + image
def p64(b, off, v): b[off:off+8]=struct.pack('<Q', v)
out=os.path.join(ROOT,'tests/fuzz/corpus/discover')+'/'
os.makedirs(out, exist_ok=True)
R=START+0x2000
# 3.13: _PyRuntime holds _Py_DebugOffsets; interp at R+0x1000, tstate at R+0x4000
elf=open(os.path.join(tmp,'v313.s.so'),'rb').read()
img=bytearray(0x4200)
img[0:8]=b'xdebugpy'
for at,v in table('p313'): p64(img, at, v)
p64(img, 632, R+0x1000)             # interpreters.head
p64(img, 0x1000+7344, R+0x4000)     # interp->threads.head
p64(img, 0x4000+16, R+0x1000)       # tstate->interp
open(out+'runtime-3.13','wb').write(seed(elf, bytes(img)))
# the same ELF without its Py_Version symbol value (version from the debug offsets)
open(out+'runtime-3.13-noversion','wb').write(seed(elf.replace(struct.pack('<Q',0x030d12f0), b'\0'*8), bytes(img)))
# 3.12: layout table, interp at R+0x1000 (threads.head at 72), tstate at R+0x3000 (interp at 16)
elf=open(os.path.join(tmp,'v312.s.so'),'rb').read()
img=bytearray(0x3100)
p64(img, 40, R+0x1000)
p64(img, 0x1000+72, R+0x3000)
p64(img, 0x3000+16, R+0x1000)
open(out+'runtime-3.12','wb').write(seed(elf, bytes(img)))
# 2.7: interp_head (.bss at 0x2200), interp at R+0x1000 (threads at 8), tstate at R+0x1800 (interp at 8)
elf=open(os.path.join(tmp,'v27.s.so'),'rb').read()
img=bytearray(0x1900)
v=b'2.7.18 (default, Dec 7 2026) [GCC]'
img[0:len(v)]=v
p64(img, 0x300, R+0x1000)
p64(img, 0x1000+8, R+0x1800)
p64(img, 0x1800+8, R+0x1000)
open(out+'runtime-2.7','wb').write(seed(elf, bytes(img)))
open(out+'elf-3.12-symtab','wb').write(seed(open(os.path.join(tmp,'v312.so'),'rb').read(), b''))
# versions, debug offsets, line tables, strings
open(out+'version-string','wb').write(bytes([1])+b'3.12.1+ (main, Dec  7 2026, 07:00:00) [GCC 12.2.0]')
open(out+'version-file','wb').write(bytes([1])+b'/usr/lib/libpython3.13t.so.1.0')
for m,name in ((0,'p313'),(1,'p314'),(2,'p315')):
    b=bytearray(1024); b[0:8]=b'xdebugpy'
    end=0
    for at,v in table(name): p64(b, at, v); end=max(end,at+8)
    open(out+f'debug-offsets-3.{13+m}','wb').write(bytes([2,m])+bytes(b[:end]))
vec={0:'0001060113010a011101',1:'000104010c0108010a01',2:'04010c010801080102800401',3:'8000d808098041dc0d1290318e588801d80b0c88718f358935d80c0d89468a41f105000e16f006000c0d8048'}
for k,h in vec.items():
    open(out+f'linetable-{k}','wb').write(bytes([3,k|4,101,0])+bytes.fromhex(h))
s=bytearray(64); p64(s,0,1); p64(s,16,5); s[32]=(1<<2)|(1<<5)|(1<<6); s[40:45]=b'hello'
open(out+'str-3.12','wb').write(bytes([4,7,8])+bytes(s))
