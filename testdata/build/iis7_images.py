"""IIS 7.5 and IIS 10 images (issue 13): Windows Server 2019 with PE32+
inetsrv files from x86_64-w64-mingw32 and 32-bit copies under SysWOW64,
Windows Server 2008 R2, and Windows Server 2012 as an OS outside the
knowledge. Each case has a healthy twin:

  w2k19-iis10-healthy        64- and 32-bit pools, every module where its worker looks
  w2k19-iis10-module-missing a registered global module whose 64-bit DLL is gone
  w2k19-iis10-module-32bit   a vendor module whose %ProgramFiles% copy is 32-bit, loaded by a 64-bit pool
  w2k19-iis10-no-register   a vendor module that exports no RegisterModule
  w2k19-iis10-other-build    iiscore.dll from Server 2016 (10.0.14393) among 10.0.17763 files
  w2k8r2-iis75-config        IIS 7.5 with applicationHost.config, healthy
  w2k8r2-iis75-filter-missing a global ISAPI filter whose DLL is gone
  w2k12-iis8                 Windows Server 2012 / IIS 8.0: no knowledge, "not evaluated"

Every version number is illustrative of its build line: 17763 is Windows
Server 2019 (1809), 14393 Windows Server 2016, 7601 Windows Server 2008 R2
SP1 (KB976932), 9200 Windows Server 2012.

Called from factory.build_all as iis7_images.build(F, factory_module).
"""

T_INSTALL = "2019-03-04T09:00:00Z"
T_IIS = "2019-03-05T10:00:00Z"
T_CU = "2021-03-10T02:00:00Z"
T_VENDOR = "2021-06-01T12:00:00Z"
T_BOOT = "2021-07-01T08:00:00Z"
T_OLD = "2016-09-15T00:00:00Z"

SIZE = 4 * 1024 * 1024

# Native modules of a default IIS 10 web server, with their DLLs
# (MicrosoftDocs iis-docs, system.webServer/globalModules/add.md).
MODULES = [
    ("UriCacheModule", "cachuri.dll"), ("FileCacheModule", "cachfile.dll"),
    ("TokenCacheModule", "cachtokn.dll"), ("HttpCacheModule", "cachhttp.dll"),
    ("StaticCompressionModule", "compstat.dll"), ("DefaultDocumentModule", "defdoc.dll"),
    ("DirectoryListingModule", "dirlist.dll"), ("ProtocolSupportModule", "protsup.dll"),
    ("StaticFileModule", "static.dll"), ("AnonymousAuthenticationModule", "authanon.dll"),
    ("RequestFilteringModule", "modrqflt.dll"), ("CustomErrorModule", "custerr.dll"),
    ("HttpLoggingModule", "loghttp.dll"),
]
CORE = ["iiscore.dll", "iisutil.dll", "iisw3adm.dll", "nativerd.dll", "w3dt.dll", "w3tp.dll", "w3wp.exe",
        "w3wphost.dll", "iislog.dll"]
DESC = {"iiscore.dll": "IIS Web Server Core", "iisutil.dll": "IIS Utility", "iisw3adm.dll": "IIS Web Admin Service",
        "nativerd.dll": "IIS Native Configuration Reader", "w3dt.dll": "IIS Data Transport",
        "w3tp.dll": "IIS Thread Pool", "w3wp.exe": "IIS Worker Process", "w3wphost.dll": "IIS Worker Process Host",
        "iislog.dll": "IIS Logging"}


def config_xml(modules, pools, apps, filters=()):
    """applicationHost.config text: modules are (name, image, preCondition),
    pools (name, enable32Bit), apps (site, path, pool), filters (name, path)."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>', "<configuration>",
           "  <system.applicationHost>", "    <applicationPools>"]
    for name, wow in pools:
        out.append('      <add name="%s" enable32BitAppOnWin64="%s" managedRuntimeVersion="v4.0" />'
                   % (name, "true" if wow else "false"))
    out += ["    </applicationPools>", "    <sites>"]
    sites = []
    for site, _, _ in apps:
        if site not in sites:
            sites.append(site)
    for i, site in enumerate(sites, 1):
        out.append('      <site name="%s" id="%d">' % (site, i))
        for s, path, pool in apps:
            if s == site:
                out.append('        <application path="%s" applicationPool="%s">' % (path, pool))
                out.append('          <virtualDirectory path="/" physicalPath="%%SystemDrive%%\\inetpub\\%s" />'
                           % site.replace(" ", ""))
                out.append("        </application>")
        out.append("      </site>")
    out += ["    </sites>", "  </system.applicationHost>", "  <system.webServer>", "    <globalModules>"]
    for name, image, pre in modules:
        pc = ' preCondition="%s"' % pre if pre else ""
        out.append('      <add name="%s" image="%s"%s />' % (name, image, pc))
    out += ["    </globalModules>", "    <isapiFilters>"]
    for name, path in filters:
        out.append('      <filter name="%s" path="%s" enabled="true" />' % (name, path))
    out += ["    </isapiFilters>", "    <modules>"]
    for name, _, pre in modules:
        pc = ' preCondition="%s"' % pre if pre else ""
        out.append('      <add name="%s"%s />' % (name, pc))
    out += ["    </modules>", "  </system.webServer>", "</configuration>", ""]
    return "\r\n".join(out).encode("utf-8")


def build(F, fx):
    def pe(name, ver, machine, exports=(), desc=None, tag="(WinBuild.160101.0800)"):
        vs = "%d.%d.%d.%d %s" % (ver + (tag,))
        return fx.Pe(name, ver, vs, desc or DESC.get(name, "IIS module"), fx.W2K3_PRODUCT,
                     pstr="%d.%d.%d.%d" % ver, exe=name.endswith(".exe"), machine=machine, exports=exports)

    def server2019(kind):
        R = "Windows"
        sys32, wow = (R, "System32"), (R, "SysWOW64")
        files = []
        b = 17763
        for i, n in enumerate(CORE + [d for _, d in MODULES]):
            # Cumulative updates leave revisions apart within the build.
            rev = (1852, 1697, 1)[i % 3]
            ver = (10, 0, b, rev)
            when = T_CU
            if kind == "other-build" and n == "iiscore.dll":
                ver, when = (10, 0, 14393, 0), T_OLD
            if kind == "module-missing" and n == "static.dll":
                continue
            exports = ("RegisterModule",) if n in dict((d, 1) for _, d in MODULES) else ()
            files.append(fx.FileSpec(sys32 + ("inetsrv", n), when, pe=pe(n, ver, "x64", exports)))
        # The 32-bit worker's copies of the modules (SysWOW64\inetsrv).
        for i, n in enumerate(["iiscore.dll", "w3wp.exe"] + [d for _, d in MODULES]):
            rev = (1852, 1697, 1)[i % 3]
            exports = ("RegisterModule",) if n.endswith(".dll") and n != "iiscore.dll" else ()
            files.append(fx.FileSpec(wow + ("inetsrv", n), T_CU, pe=pe(n, (10, 0, b, rev), "x86", exports)))
        files.append(fx.FileSpec(sys32 + ("svchost.exe",), T_INSTALL,
                                 pe=pe("svchost.exe", (10, 0, b, 1), "x64", desc="Host Process for Windows Services")))
        modules = [(name, "%%windir%%\\System32\\inetsrv\\%s" % dll, "") for name, dll in MODULES]
        # A vendor module installed per bitness, as installers do.
        modules.append(("VendorAgent", "%ProgramFiles%\\Contoso\\Agent\\agent.dll", ""))
        agent64 = "x86" if kind == "module-32bit" else "x64"
        # A build without the native entry point (a managed assembly's shim,
        # say) registered as a global module.
        agent_exports = ("AgentStart",) if kind == "no-register" else ("RegisterModule",)
        files.append(fx.FileSpec(("Program Files", "Contoso", "Agent", "agent.dll"), T_VENDOR,
                                 pe=pe("agent.dll", (3, 2, 0, 7), agent64, agent_exports,
                                       desc="Contoso Monitoring Agent Module", tag="")))
        files.append(fx.FileSpec(("Program Files (x86)", "Contoso", "Agent", "agent.dll"), T_VENDOR,
                                 pe=pe("agent.dll", (3, 2, 0, 7), "x86", agent_exports,
                                       desc="Contoso Monitoring Agent Module", tag="")))
        pools = [("DefaultAppPool", False), ("Legacy32", True)]
        apps = [("Default Web Site", "/", "DefaultAppPool"), ("Default Web Site", "/legacy", "Legacy32"),
                ("intranet", "/", "DefaultAppPool")]
        cfg = config_xml(modules, pools, apps)
        files.append(fx.FileSpec(sys32 + ("inetsrv", "config", "applicationHost.config"), T_VENDOR, data=cfg))
        sysh = fx.Hive(T_BOOT)
        sysh.key("Select", [("Current", fx.reg_dword(1)), ("Default", fx.reg_dword(1)), ("Failed", fx.reg_dword(0)),
                            ("LastKnownGood", fx.reg_dword(1))])
        svchost = "%SystemRoot%\\system32\\svchost.exe -k iissvcs"
        cs = "ControlSet001"
        for svc, disp, start in [("W3SVC", "World Wide Web Publishing Service", 2),
                                 ("WAS", "Windows Process Activation Service", 3)]:
            sysh.key(cs + "\\Services\\" + svc, [("ImagePath", fx.reg_expand(svchost)), ("Start", fx.reg_dword(start)),
                                                 ("Type", fx.reg_dword(0x20)), ("ErrorControl", fx.reg_dword(1)),
                                                 ("ObjectName", fx.reg_sz("localSystem")),
                                                 ("DisplayName", fx.reg_sz(disp))])
            sysh.key(cs + "\\Services\\" + svc + "\\Parameters",
                     [("ServiceDll", fx.reg_expand("%windir%\\system32\\inetsrv\\iisw3adm.dll"))])
        sysh.key(cs + "\\Control\\Session Manager\\Environment",
                 [("PROCESSOR_ARCHITECTURE", fx.reg_sz("AMD64"))])
        sysh.key(cs + "\\Control\\Windows", [("CSDVersion", fx.reg_dword(0))])
        sw = fx.Hive(T_BOOT)
        sw.key("Microsoft\\Windows NT\\CurrentVersion", [
            ("CurrentVersion", fx.reg_sz("6.3")), ("CurrentMajorVersionNumber", fx.reg_dword(10)),
            ("CurrentMinorVersionNumber", fx.reg_dword(0)), ("CurrentBuildNumber", fx.reg_sz("17763")),
            ("CurrentBuild", fx.reg_sz("17763")), ("UBR", fx.reg_dword(1852)), ("ReleaseId", fx.reg_sz("1809")),
            ("ProductName", fx.reg_sz("Windows Server 2019 Standard")), ("EditionID", fx.reg_sz("ServerStandard")),
            ("InstallationType", fx.reg_sz("Server")), ("SystemRoot", fx.reg_sz("C:\\Windows"))])
        sw.key("Microsoft\\Windows\\CurrentVersion", [
            ("ProgramFilesDir", fx.reg_sz("C:\\Program Files")),
            ("ProgramFilesDir (x86)", fx.reg_sz("C:\\Program Files (x86)"))])
        sw.key("Microsoft\\InetStp", [("MajorVersion", fx.reg_dword(10)), ("MinorVersion", fx.reg_dword(0)),
                                      ("InstallPath", fx.reg_sz("C:\\Windows\\system32\\inetsrv")),
                                      ("SetupString", fx.reg_sz("IIS 10.0"))], when=T_IIS)
        cfgdir = sys32 + ("config",)
        meta = dict(system_root="\\Windows", os_version="10.0", os_build="17763", service_pack="",
                    control_set=cs, hotfixes=[], extra_dirs=[], dir_times={},
                    hive_paths=(cfgdir + ("SYSTEM",), cfgdir + ("SOFTWARE",)), corrupt_hotfix=None,
                    hive_time=T_BOOT, install_time=T_INSTALL, compress_dir=None,
                    product_name="Windows Server 2019 Standard")
        return files, sysh, sw, meta

    def finding(rule, *paths):
        return fx.finding(rule, "error", *paths)

    inet = "\\Windows\\System32\\inetsrv\\"
    cases = [
        ("w2k19-iis10-healthy", "healthy",
         "Windows Server 2019 Standard (10.0.17763.1852) with IIS 10: PE32+ inetsrv files from x86_64 mingw at "
         "10.0.17763 with the revisions cumulative updates leave (.1, .1697, .1852), 32-bit copies under "
         "SysWOW64\\inetsrv, applicationHost.config with 14 global modules, a 64-bit pool (DefaultAppPool) and a "
         "32-bit one (Legacy32, enable32BitAppOnWin64), and a vendor module installed for both bitnesses under "
         "%ProgramFiles%. Every module is where its worker looks, at its bitness: quiet.", []),
        ("w2k19-iis10-module-missing", "module-missing",
         "The healthy Server 2019 image without System32\\inetsrv\\static.dll, which <globalModules> still names "
         "(StaticFileModule): the 64-bit worker of DefaultAppPool fails with event 2280 (error 126) and the pool "
         "answers 503; the 32-bit worker finds its SysWOW64 copy.",
         [finding("missing-module", inet + "static.dll")]),
        ("w2k19-iis10-module-32bit", "module-32bit",
         "The healthy Server 2019 image whose %ProgramFiles%\\Contoso\\Agent\\agent.dll is a 32-bit (x86) build: the "
         "64-bit worker of DefaultAppPool loads it and fails with error 193 (0x800700C1); Legacy32's worker loads "
         "the Program Files (x86) copy and is fine.",
         [finding("module-bitness", "\\Program Files\\Contoso\\Agent\\agent.dll")]),
        ("w2k19-iis10-no-register", "no-register",
         "The healthy Server 2019 image whose vendor agent.dll (both bitnesses) exports no RegisterModule: "
         "both workers log event 2295 and their pools stop.",
         [finding("module-no-register", "\\Program Files\\Contoso\\Agent\\agent.dll"),
          finding("module-no-register", "\\Program Files (x86)\\Contoso\\Agent\\agent.dll")]),
        ("w2k19-iis10-other-build", "other-build",
         "The healthy Server 2019 image with iiscore.dll from Windows Server 2016 (10.0.14393.0, written 2016) "
         "among 10.0.17763 files: a file of another OS build.",
         [finding("lockstep-mismatch", inet + "iiscore.dll")]),
    ]
    for name, kind, desc, findings in cases:
        vol, files, hives, meta = F.volume(name, lambda k=kind: server2019(k), SIZE, label="Windows")
        F.place(vol, name + ".img")
        F.add(name, name + ".img", "raw", "bare", 0, 4096, files, hives, meta, desc, findings)

    # Windows Server 2008 R2 / IIS 7.5 with its configuration.
    def r2(kind):
        files, sysh, sw, meta = fx.nt61_image("Windows Server 2008 R2 Standard", "ServerStandard", iis=True)
        sys32 = ("Windows", "System32")
        modules = [("StaticFileModule", "%windir%\\System32\\inetsrv\\static.dll", ""),
                   ("DefaultDocumentModule", "%windir%\\System32\\inetsrv\\defdoc.dll", "")]
        for n in ("static.dll", "defdoc.dll"):
            files.append(fx.FileSpec(sys32 + ("inetsrv", n), fx.T_W7_SP1,
                                     pe=pe(n, (7, 5, 7601, 17514), "x64", ("RegisterModule",),
                                           tag="(win7sp1_rtm.101119-1850)")))
        filters = [("ContosoAuth", "C:\\Program Files\\Contoso\\isapi\\cauth.dll")]
        if kind != "filter-missing":
            files.append(fx.FileSpec(("Program Files", "Contoso", "isapi", "cauth.dll"), fx.T_W7_IISADD,
                                     pe=pe("cauth.dll", (2, 0, 0, 3), "x64", ("GetFilterVersion", "HttpFilterProc"),
                                           desc="Contoso ISAPI authentication filter", tag="")))
        cfg = config_xml(modules, [("DefaultAppPool", False)], [("Default Web Site", "/", "DefaultAppPool")], filters)
        files.append(fx.FileSpec(sys32 + ("inetsrv", "config", "applicationHost.config"), fx.T_W7_IISADD, data=cfg))
        for cs in ("ControlSet001", "ControlSet002"):
            sysh.key(cs + "\\Control\\Session Manager\\Environment",
                     [("PROCESSOR_ARCHITECTURE", fx.reg_sz("AMD64"))])
        return files, sysh, sw, meta

    for name, kind, desc, findings in [
        ("w2k8r2-iis75-config", "healthy",
         "Windows Server 2008 R2 Standard SP1 (x64) with IIS 7.5 at 7.5.7601.17514, applicationHost.config with "
         "two global modules (PE32+ static.dll, defdoc.dll) and a global ISAPI filter under C:\\Program Files, all "
         "present: quiet, evaluated by the iis75 rules.", []),
        ("w2k8r2-iis75-filter-missing", "filter-missing",
         "The same Server 2008 R2 install whose global ISAPI filter ContosoAuth "
         "(C:\\Program Files\\Contoso\\isapi\\cauth.dll) was uninstalled without removing it from <isapiFilters>: "
         "the worker of DefaultAppPool cannot load it.",
         [finding("missing-module", "\\Program Files\\Contoso\\isapi\\cauth.dll")]),
    ]:
        vol, files, hives, meta = F.volume(name, lambda k=kind: r2(k), SIZE, label="Windows")
        F.place(vol, name + ".img")
        F.add(name, name + ".img", "raw", "bare", 0, 4096, files, hives, meta, desc, findings)

    # Windows Server 2012 / IIS 8.0: an OS the knowledge does not cover.
    def w2012():
        files, sysh, sw, meta = fx.nt61_image("Windows Server 2012 Standard", "ServerStandard", iis=True)
        sw.keys[("Microsoft", "Windows NT", "CurrentVersion")] = [
            ("CurrentVersion", fx.reg_sz("6.2")), ("CurrentBuildNumber", fx.reg_sz("9200")),
            ("CurrentBuild", fx.reg_sz("9200")), ("ProductName", fx.reg_sz("Windows Server 2012 Standard")),
            ("EditionID", fx.reg_sz("ServerStandard")), ("InstallationType", fx.reg_sz("Server")),
            ("SystemRoot", fx.reg_sz("C:\\Windows"))]
        sw.keys[("Microsoft", "InetStp")] = [("MajorVersion", fx.reg_dword(8)), ("MinorVersion", fx.reg_dword(0)),
                                            ("SetupString", fx.reg_sz("IIS 8.0"))]
        # 64-bit only, as Windows Server 2012 is: the host and its service DLL agree.
        files = [f for f in files if not (f.pe and (f.pe.ver[:2] == (7, 5) or f.pe.name == "svchost.exe"))]
        files.append(fx.FileSpec(("Windows", "System32", "svchost.exe"), "2012-09-01T00:00:00Z",
                                 pe=pe("svchost.exe", (6, 2, 9200, 16384), "x64",
                                       desc="Host Process for Windows Services", tag="(win8_rtm.120725-1247)")))
        for n in ("iiscore.dll", "iisw3adm.dll", "w3wp.exe", "static.dll"):
            files.append(fx.FileSpec(("Windows", "System32", "inetsrv", n), "2012-09-01T00:00:00Z",
                                     pe=pe(n, (8, 0, 9200, 16384), "x64", tag="(win8_rtm.120725-1247)")))
        meta.update(os_version="6.2", os_build="9200", service_pack="", product_name="Windows Server 2012 Standard")
        return files, sysh, sw, meta

    name = "w2k12-iis8"
    vol, files, hives, meta = F.volume(name, w2012, SIZE, label="Windows")
    F.place(vol, name + ".img")
    F.add(name, name + ".img", "raw", "bare", 0, 4096, files, hives, meta,
          "Windows Server 2012 Standard (NT 6.2 build 9200) with IIS 8.0 files at 8.0.9200.16384: verskew holds no "
          "IIS 8 knowledge, so it must say it could not evaluate this install, never that all is well.",
          [], status="not-evaluated", reason="no IIS knowledge for Windows Server 2012 Standard")
