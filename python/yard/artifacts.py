"""Artifacts: content-addressed files and folders in the scheduler's store.

A file is stored as one blob named by the sha256 of its bytes.  A folder is
a tree: each regular file as a blob, then a manifest blob

    {"entries":[{"digest":..,"mode":420,"path":"a/b","size":N},...],
     "yard_tree":1}

(compact JSON, keys sorted, UTF-8 not escaped, entries sorted by the bytes
of their '/'-separated path), whose digest is the folder's.  These are the
rules of common/digest.c, so a folder put from Python and from C has the
same digest.
"""
import hashlib
import json
import os
import stat

from . import yard_pb2 as pb

CHUNK = 1 << 20


def digest_bytes(data):
    return hashlib.sha256(data).hexdigest()


def digest_file(path):
    """(digest, size) of a file's content."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while True:
            b = f.read(CHUNK)
            if not b:
                break
            h.update(b)
            size += len(b)
    return h.hexdigest(), size


def tree_entries(folder):
    """The manifest entries of folder: regular files only (a link or a
    special file raises ValueError, as in C)."""
    entries = []
    root = os.fsencode(folder)

    def walk(rel):
        full = os.path.join(root, rel) if rel else root
        for name in os.listdir(full):
            sub = rel + b"/" + name if rel else name
            st = os.lstat(os.path.join(root, sub))
            if stat.S_ISDIR(st.st_mode):
                walk(sub)
            elif stat.S_ISREG(st.st_mode):
                d, size = digest_file(os.path.join(root, sub))
                entries.append({"path": sub, "mode": st.st_mode & 0o7777,
                                "size": size, "digest": d})
            else:
                raise ValueError("%s is not a regular file or folder (links "
                                 "and special files cannot be stored)"
                                 % os.fsdecode(os.path.join(root, sub)))
    walk(b"")
    entries.sort(key=lambda e: e["path"])
    for e in entries:
        e["path"] = e["path"].decode("utf-8", "surrogateescape")
    return entries


def tree_manifest(entries):
    """The manifest's bytes for entries (as tree_entries returns)."""
    return json.dumps({"yard_tree": 1, "entries": entries},
                      separators=(",", ":"), sort_keys=True,
                      ensure_ascii=False).encode("utf-8", "surrogateescape")


def digest_path(path):
    """(digest, size) of a file, or of a folder's tree (size: its files'
    bytes)."""
    if os.path.isdir(path):
        entries = tree_entries(path)
        return (digest_bytes(tree_manifest(entries)),
                sum(e["size"] for e in entries))
    return digest_file(path)


class ArtifactsMixin:
    """Client methods: put and get artifacts."""

    def artifact_stat(self, digest):
        i = self._call("artifact_stat", pb.ArtifactStat(digest=digest))
        return {"digest": i.digest, "present": i.present, "size": i.size,
                "partial": i.partial}

    def _put_blob(self, digest, size, read_at):
        info = self._call("artifact_stat", pb.ArtifactStat(digest=digest))
        offset = info.size if info.present else info.partial
        if info.present:
            return
        while True:
            data = read_at(offset, min(CHUNK, size - offset))
            info = self._call("artifact_put", pb.ArtifactPut(
                digest=digest, size=size, offset=offset, data=data))
            if info.present:
                return
            if info.partial == offset and not data:
                raise OSError("the store took no bytes of %s at %d"
                              % (digest, offset))
            offset = info.partial

    def _put_file(self, path):
        d, size = digest_file(path)
        with open(path, "rb") as f:
            def read_at(off, n):
                f.seek(off)
                return f.read(n)
            self._put_blob(d, size, read_at)
        return d, size

    def _put_bytes(self, data):
        d = digest_bytes(data)
        self._put_blob(d, len(data), lambda off, n: data[off:off + n])
        return d

    def artifact_put(self, path):
        """Store a file or a folder; return (digest, size)."""
        if not os.path.isdir(path):
            return self._put_file(path)
        entries = tree_entries(path)
        for e in entries:
            self._put_file(os.path.join(path, e["path"]))
        return (self._put_bytes(tree_manifest(entries)),
                sum(e["size"] for e in entries))

    def artifact_get_bytes(self, digest, max_size=1 << 30):
        out = bytearray()
        while True:
            c = self._call("artifact_get", pb.ArtifactGet(
                digest=digest, offset=len(out), max_bytes=CHUNK))
            out += c.data
            if len(out) >= c.size or not c.data:
                break
            if len(out) > max_size:
                raise ValueError("artifact %s is larger than %d bytes"
                                 % (digest, max_size))
        data = bytes(out)
        if digest_bytes(data) != digest:
            raise OSError("artifact %s: content does not match its digest"
                          % digest)
        return data

    def artifact_get(self, digest, dest):
        """Fetch an artifact to dest (must not exist): a tree becomes a
        folder, a blob a file."""
        if os.path.exists(dest):
            raise FileExistsError(dest)
        data = self.artifact_get_bytes(digest)
        try:
            m = json.loads(data) if data.startswith(b'{"entries":') else None
        except ValueError:
            m = None
        if not (isinstance(m, dict) and m.get("yard_tree") == 1):
            with open(dest, "wb") as f:
                f.write(data)
            return False
        os.makedirs(dest)
        for e in m["entries"]:
            p = e["path"]
            if p.startswith("/") or ".." in p.split("/"):
                raise OSError("unsafe path %r in tree %s" % (p, digest))
            full = os.path.join(dest, p)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(self.artifact_get_bytes(e["digest"]))
            os.chmod(full, e["mode"] & 0o7777)
        return True
