"""NT 4.0 + IIS 4 installs with a PendingFileRenameOperations queue, judged
both ways by verskew's pending-rename rule: what the next boot does to the
IIS 4 lockstep sets.

`build(F, fx)` adds the images to the factory `F`; `fx` is factory.py's
module (its helpers and nt4_image).

Each queue is written as Windows' in-use file replacement writes it: the new
file copied beside the old one under a temporary name, then a rename of the
temporary file onto the old name with `!` (replace existing), in
`ControlSet001\\Control\\Session Manager`.  A delete is a pair whose
destination is the empty string; as the last pair of a REG_MULTI_SZ its
empty string sits right before the terminating one.
"""

T_QUEUED = "2002-06-30T17:30:00Z"  # the hotfix (or uninstall) that queued the operations
INETSRV = "\\??\\C:\\WINNT\\system32\\inetsrv\\"
W3 = "\\WINNT\\system32\\inetsrv\\w3svc.dll"


def with_queue(built, fx, ops, sources):
    """Adds PendingFileRenameOperations (`ops`: flat strings, as stored) to
    both control sets, and the temporary source files (`sources`: name ->
    w3svc.dll version) to inetsrv."""
    files, sysh, sw, meta = built
    for cs in ("ControlSet001", "ControlSet002"):
        sysh.key(cs + "\\Control\\Session Manager", [
            ("PendingFileRenameOperations", fx.reg_multi(*ops)),
        ])
    inetsrv = ("WINNT", "system32", "inetsrv")
    for name, ver in sources.items():
        pe = fx.Pe("w3svc.dll", ver, fx.v4str(ver), fx.IIS4_DESC["w3svc.dll"], fx.NT4_PRODUCT)
        files.append(fx.FileSpec(inetsrv + (name,), T_QUEUED, pe=pe))
    return files, sysh, sw, meta


def build(F, fx):
    size = fx.NT4_SIZE
    images = [
        ("nt4-iis4-pending-fixes", "kb291589",
         [INETSRV + "SET1F.tmp", "!" + INETSRV + "w3svc.dll"], {"SET1F.tmp": (4, 2, 769, 1)},
         "The seed's KB Q291589 mismatch (w3svc.dll at Option Pack RTM 4.2.622.1 beside MS01-044's 4.2.769.1) "
         "with a queued replacement: SET1F.tmp (w3svc.dll 4.2.769.1) renamed onto w3svc.dll at the next boot. "
         "The mismatch stands now; the pending-rename verdict is `fixes`.",
         [fx.lockstep_w3svc(), fx.finding("pending-rename", "warning", W3)]),
        ("nt4-iis4-pending-causes", "healthy",
         [INETSRV + "SET2C.tmp", "!" + INETSRV + "w3svc.dll"], {"SET2C.tmp": (4, 2, 622, 1)},
         "The healthy NT 4.0 SP6 + IIS 4 (image 2) with a queued replacement that would put Option Pack RTM "
         "w3svc.dll 4.2.622.1 (SET2C.tmp) back over 4.2.769.1 at the next boot: in step now, the pending-rename "
         "verdict is `causes` (error).",
         [fx.finding("pending-rename", "error", W3)]),
        ("nt4-iis4-pending-delete", "healthy",
         [INETSRV + "w3svc.dll", ""], {},
         "The healthy NT 4.0 SP6 + IIS 4 (image 2) with one queued operation, a delete of w3svc.dll (an empty "
         "destination, as the last pair: the REG_MULTI_SZ ends in three NULs). The pair must be kept; the "
         "pending-rename verdict is `causes` (error): the boot removes a member of the set.",
         [fx.finding("pending-rename", "error", W3)]),
        ("nt4-iis4-pending-missing-source", "healthy",
         [INETSRV + "SET4M.tmp", "!" + INETSRV + "w3svc.dll"], {},
         "The healthy NT 4.0 SP6 + IIS 4 (image 2) with a queued replacement of w3svc.dll whose source, "
         "SET4M.tmp, is not on disk: what the next boot leaves cannot be judged; the pending-rename verdict is "
         "`not-checked`, naming the missing source.",
         [fx.finding("pending-rename", "warning", W3)]),
    ]
    for name, kind, ops, sources, desc, findings in images:
        vol, files, hives, meta = F.volume(
            name, lambda kind=kind, ops=ops, sources=sources: with_queue(fx.nt4_image(kind), fx, ops, sources),
            size)
        F.place(vol, name + ".img")
        F.add(name, name + ".img", "raw", "bare", 0, 4096, files, hives, meta, desc, findings)
