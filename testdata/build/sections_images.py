"""IIS 10 sections, schema, web.config and the ASP.NET Core Module (issue
13): the Server 2019 image of iis7_images.py with a declared configuration
(<configSections>), the schema folder, a web.config per site, URL Rewrite
and the ASP.NET Core Module (ANCM V2) with its request handlers. Each case
has the healthy twin:

  w2k19-iis10-sections-healthy        URL Rewrite installed (module, schema, declaration); the site's web.config uses <rewrite>
  w2k19-iis10-rewrite-uninstalled     the web.config uses <rewrite>; no declaration, no schema, no module behind it
  w2k19-iis10-section-no-schema       <rewrite> declared and its module registered, rewrite_schema.xml gone
  w2k19-iis10-ancm-healthy            an in-process and an out-of-process ASP.NET Core app, every handler where ANCM looks
  w2k19-iis10-ancm-inprocess-missing  the shared framework's aspnetcorev2_inprocess.dll gone
  w2k19-iis10-ancm-outofprocess-missing the version folder beside aspnetcorev2.dll without aspnetcorev2_outofprocess.dll
  w2k19-iis10-webconfig-hostile       web.configs malformed, UTF-16, deeply nested, oversized: partial, no finding

The base image is iis7_images.py's own Server 2019 builder, taken by running
its build() with a recording factory (the builder is local to it), so the
two modules cannot drift. Version numbers are illustrative of their lines:
ANCM V2's handler folders are named major.minor.patch (18.0.24201 here),
the ASP.NET Core shared framework's by its version (8.0.1).

Called from factory.build_all as sections_images.build(F, factory_module).
"""

import iis7_images

T_CU = iis7_images.T_CU
T_APPS = "2022-02-01T12:00:00Z"
T_REWRITE = "2021-09-01T10:00:00Z"
T_HOSTING = "2022-01-20T09:00:00Z"

SIZE = 4 * 1024 * 1024
HOSTILE_SIZE = 6 * 1024 * 1024

INET = ("Windows", "System32", "inetsrv")
WOW = ("Windows", "SysWOW64", "inetsrv")
SCHEMA = INET + ("config", "schema")
ANCM = ("IIS", "Asp.Net Core Module", "V2")
ANCM_VERSION = "18.0.24201"
FRAMEWORK = ("dotnet", "shared", "Microsoft.AspNetCore.App", "8.0.1")

# The sections IIS's own schema (IIS_schema.xml) defines that these
# configurations use, by group.
BASE = {
    "system.applicationHost": ["applicationPools", "sites"],
    "system.webServer": ["globalModules", "modules", "isapiFilters", "defaultDocument", "handlers",
                         "staticContent", "httpErrors"],
}
REWRITE = ["rules", "globalRules", "outboundRules", "rewriteMaps"]


def _base_server2019(fx):
    """iis7_images' Server 2019 builder for its healthy image."""
    class Recorder:
        def __init__(self):
            self.builders = {}

        def volume(self, name, builder, size, **kw):
            self.builders[name] = builder
            return None, None, None, None

        def place(self, *a, **kw):
            pass

        def add(self, *a, **kw):
            pass

    r = Recorder()
    iis7_images.build(r, fx)
    return r.builders["w2k19-iis10-healthy"]


def schema_xml(sections):
    out = ['<?xml version="1.0" encoding="UTF-8"?>', "<configSchema>"]
    for s in sections:
        out.append('  <sectionSchema name="%s">' % s)
        out.append('    <attribute name="enabled" type="bool" defaultValue="true" />')
        out.append("  </sectionSchema>")
    out += ["</configSchema>", ""]
    return "\r\n".join(out).encode("utf-8")


def host_config(modules, pools, apps, rewrite_declared, ancm_declared):
    """applicationHost.config with its <configSections>: modules are (name,
    image), pools (name, enable32Bit), apps (site, path, pool, folder)."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>', "<configuration>", "  <configSections>"]
    for group, names in BASE.items():
        out.append('    <sectionGroup name="%s">' % group)
        for n in names:
            out.append('      <section name="%s" overrideModeDefault="Allow" />' % n)
        if group == "system.webServer" and rewrite_declared:
            out.append('      <sectionGroup name="rewrite">')
            for n in REWRITE:
                out.append('        <section name="%s" overrideModeDefault="Allow" />' % n)
            out.append("      </sectionGroup>")
        if group == "system.webServer" and ancm_declared:
            out.append('      <section name="aspNetCore" overrideModeDefault="Allow" />')
        out.append("    </sectionGroup>")
    out += ["  </configSections>", "  <system.applicationHost>", "    <applicationPools>"]
    for name, wow in pools:
        out.append('      <add name="%s" enable32BitAppOnWin64="%s" managedRuntimeVersion="" />'
                   % (name, "true" if wow else "false"))
    out += ["    </applicationPools>", "    <sites>"]
    sites = []
    for site, _, _, _ in apps:
        if site not in sites:
            sites.append(site)
    for i, site in enumerate(sites, 1):
        out.append('      <site name="%s" id="%d">' % (site, i))
        for s, path, pool, folder in apps:
            if s == site:
                out.append('        <application path="%s" applicationPool="%s">' % (path, pool))
                out.append('          <virtualDirectory path="/" physicalPath="%s" />' % folder)
                out.append("        </application>")
        out.append("      </site>")
    out += ["    </sites>", "  </system.applicationHost>", "  <system.webServer>", "    <globalModules>"]
    for name, image in modules:
        out.append('      <add name="%s" image="%s" />' % (name, image))
    out += ["    </globalModules>", "    <modules>"]
    for name, _ in modules:
        out.append('      <add name="%s" />' % name)
    out += ["    </modules>", "    <defaultDocument enabled=\"true\" />", "  </system.webServer>",
            "</configuration>", ""]
    return "\r\n".join(out).encode("utf-8")


def web_config(body, location=False):
    """A web.config holding `body` below <system.webServer> (in the
    <location path="."> publishing writes when `location`)."""
    inner = "    <system.webServer>\r\n%s\r\n    </system.webServer>" % body
    if location:
        inner = '  <location path="." inheritInChildApplications="false">\r\n%s\r\n  </location>' % inner
    return ('<?xml version="1.0" encoding="utf-8"?>\r\n<configuration>\r\n%s\r\n</configuration>\r\n'
            % inner).encode("utf-8")


REWRITE_BODY = ('      <rewrite>\r\n        <rules>\r\n          <rule name="https" stopProcessing="true">\r\n'
                '            <match url="(.*)" />\r\n          </rule>\r\n        </rules>\r\n      </rewrite>')


def aspnetcore_body(process, model):
    hm = ' hostingModel="%s"' % model if model else ""
    return ('      <handlers>\r\n        <add name="aspNetCore" path="*" verb="*" modules="AspNetCoreModuleV2" '
            'resourceType="Unspecified" />\r\n      </handlers>\r\n'
            '      <aspNetCore processPath="%s" arguments=".\\App.dll" stdoutLogEnabled="false"%s />'
            % (process, hm))


def build(F, fx):
    base = _base_server2019(fx)

    def pe(name, ver, machine, exports=(), desc="", tag=""):
        vs = "%d.%d.%d.%d%s" % (ver + ((" " + tag) if tag else "",))
        return fx.Pe(name, ver, vs, desc, "Microsoft(R) Internet Information Services", pstr="%d.%d.%d.%d" % ver,
                     machine=machine, exports=exports)

    def server(kind):
        files, sysh, sw, meta = base()
        cfg_path = INET + ("config", "applicationHost.config")
        files = [f for f in files if f.path != cfg_path]
        modules = [(name, "%%windir%%\\System32\\inetsrv\\%s" % dll) for name, dll in iis7_images.MODULES]
        modules.append(("VendorAgent", "%ProgramFiles%\\Contoso\\Agent\\agent.dll"))
        pools = [("DefaultAppPool", False), ("Legacy32", True)]
        apps = [("Default Web Site", "/", "DefaultAppPool", "%SystemDrive%\\inetpub\\wwwroot"),
                ("Default Web Site", "/legacy", "Legacy32", "%SystemDrive%\\inetpub\\legacy")]
        schema = [("IIS_schema.xml", ["%s/%s" % (g, n) for g, ns in BASE.items() for n in ns])]
        rewrite = kind in ("sections-healthy", "section-no-schema")
        ancm = kind.startswith("ancm")
        if rewrite:
            modules.append(("RewriteModule", "%SystemRoot%\\system32\\inetsrv\\rewrite.dll"))
            for where, machine in ((INET, "x64"), (WOW, "x86")):
                files.append(fx.FileSpec(where + ("rewrite.dll",), T_REWRITE,
                                         pe=pe("rewrite.dll", (7, 1, 1993, 2351), machine, ("RegisterModule",),
                                               desc="IIS URL Rewrite Module")))
            if kind != "section-no-schema":
                schema.append(("rewrite_schema.xml", ["system.webServer/rewrite/" + n for n in REWRITE]))
        if kind in ("sections-healthy", "rewrite-uninstalled", "section-no-schema"):
            files.append(fx.FileSpec(("inetpub", "wwwroot", "web.config"), T_APPS, data=web_config(REWRITE_BODY)))
        if ancm:
            modules.append(("AspNetCoreModuleV2", "%ProgramFiles%\\IIS\\Asp.Net Core Module\\V2\\aspnetcorev2.dll"))
            schema.append(("aspnetcore_schema_v2.xml", ["system.webServer/aspNetCore"]))
            pools += [("ShopPool", False), ("ApiPool", False)]
            apps += [("shop", "/", "ShopPool", "C:\\apps\\shop"), ("api", "/", "ApiPool", "C:\\apps\\api")]
            for pf, machine in (("Program Files", "x64"), ("Program Files (x86)", "x86")):
                root = (pf,) + ANCM
                files.append(fx.FileSpec(root + ("aspnetcorev2.dll",), T_HOSTING,
                                         pe=pe("aspnetcorev2.dll", (18, 0, 24201, 0), machine, ("RegisterModule",),
                                               desc="IIS ASP.NET Core Module V2")))
                handler = root + (ANCM_VERSION, "aspnetcorev2_outofprocess.dll")
                if kind == "ancm-outofprocess-missing" and machine == "x64":
                    # The version folder stays, without its handler.
                    files.append(fx.FileSpec(root + (ANCM_VERSION, "aspnetcorev2_outofprocess.pdb"), T_HOSTING,
                                             data=b"Microsoft C/C++ MSF 7.00\r\n\x1aDS\x00\x00\x00"))
                else:
                    files.append(fx.FileSpec(handler, T_HOSTING,
                                             pe=pe("aspnetcorev2_outofprocess.dll", (18, 0, 24201, 0), machine,
                                                   ("CreateApplication",),
                                                   desc="IIS ASP.NET Core Module V2 Request Handler")))
            fw = ("Program Files",) + FRAMEWORK
            files.append(fx.FileSpec(fw + ("Microsoft.AspNetCore.App.deps.json",), T_HOSTING,
                                     data=b'{"runtimeTarget": {"name": ".NETCoreApp,Version=v8.0"}}\r\n'))
            if kind != "ancm-inprocess-missing":
                files.append(fx.FileSpec(fw + ("aspnetcorev2_inprocess.dll",), T_HOSTING,
                                         pe=pe("aspnetcorev2_inprocess.dll", (18, 0, 24201, 0), "x64",
                                               ("CreateApplication",),
                                               desc="IIS ASP.NET Core Module V2 Request Handler")))
            files.append(fx.FileSpec(("apps", "shop", "web.config"), T_APPS,
                                     data=web_config(aspnetcore_body("dotnet", "inprocess"), location=True)))
            files.append(fx.FileSpec(("apps", "api", "web.config"), T_APPS,
                                     data=web_config(aspnetcore_body(".\\Api.exe", "outofprocess"), location=True)))
        if kind == "webconfig-hostile":
            hostile = [
                ("malformed", web_config("      <defaultDocument enabled=\"true\">")),
                ("utf16", b"\xff\xfe" + web_config('      <defaultDocument enabled="true" />')
                 .decode("utf-8").encode("utf-16-le")),
                ("deep", web_config("      <defaultDocument>%s%s</defaultDocument>"
                                    % ("<files>" * 20000, "</files>" * 20000))),
                ("oversized", web_config("      <!-- %s -->" % ("x" * (1024 * 1024)))),
            ]
            for name, data in hostile:
                apps.append((name, "/", "DefaultAppPool", "C:\\sites\\%s" % name))
                files.append(fx.FileSpec(("sites", name, "web.config"), T_APPS, data=data))
        for name, sections in schema:
            files.append(fx.FileSpec(SCHEMA + (name,), T_CU, data=schema_xml(sections)))
        files.append(fx.FileSpec(cfg_path, T_APPS, data=host_config(modules, pools, apps, rewrite, ancm)))
        return files, sysh, sw, meta

    def finding(rule, *paths):
        return fx.finding(rule, "error", *paths)

    ancm_root = "\\Program Files\\IIS\\Asp.Net Core Module\\V2\\"
    cases = [
        ("w2k19-iis10-sections-healthy", "sections-healthy", SIZE,
         "The healthy Server 2019 image with URL Rewrite installed as IIS lays it down: rewrite.dll for both "
         "bitnesses registered as RewriteModule, rewrite_schema.xml in inetsrv\\config\\schema, the rewrite group "
         "declared in <configSections>; the Default Web Site's web.config uses <rewrite><rules>: quiet.",
         [], "evaluated", ""),
        ("w2k19-iis10-rewrite-uninstalled", "rewrite-uninstalled", SIZE,
         "URL Rewrite uninstalled (no declaration, no schema file, no RewriteModule) while the Default Web Site's "
         "web.config still uses <rewrite>: every request to the site fails with HTTP 500.19, 0x8007000d.",
         [finding("missing-section", "\\inetpub\\wwwroot\\web.config")], "evaluated", ""),
        ("w2k19-iis10-section-no-schema", "section-no-schema", SIZE,
         "URL Rewrite declared and its module registered and present, but rewrite_schema.xml is gone from "
         "inetsrv\\config\\schema: IIS cannot read the site's <rewrite> section (HTTP 500.19).",
         [finding("missing-section", "\\inetpub\\wwwroot\\web.config")], "evaluated", ""),
        ("w2k19-iis10-ancm-healthy", "ancm-healthy", SIZE,
         "The .NET Hosting Bundle installed: AspNetCoreModuleV2 for both bitnesses under %ProgramFiles%\\IIS\\"
         "Asp.Net Core Module\\V2 with the out-of-process handler in its 18.0.24201 folder, the ASP.NET Core "
         "shared framework 8.0.1 with aspnetcorev2_inprocess.dll; site shop runs in process (ShopPool), site api "
         "out of process (ApiPool): quiet.", [], "evaluated", ""),
        ("w2k19-iis10-ancm-inprocess-missing", "ancm-inprocess-missing", SIZE,
         "The ANCM image whose shared framework folder (8.0.1) lost aspnetcorev2_inprocess.dll: the in-process "
         "site shop answers HTTP 500.33; the out-of-process site api is fine.",
         [finding("ancm-handler-missing", "\\apps\\shop\\aspnetcorev2_inprocess.dll",
                  "\\Program Files\\dotnet\\shared\\Microsoft.AspNetCore.App\\8.0.1\\aspnetcorev2_inprocess.dll")],
         "evaluated", ""),
        ("w2k19-iis10-ancm-outofprocess-missing", "ancm-outofprocess-missing", SIZE,
         "The ANCM image whose 64-bit version folder 18.0.24201 beside aspnetcorev2.dll holds no "
         "aspnetcorev2_outofprocess.dll: the out-of-process site api cannot start (ANCM Out-Of-Process Handler "
         "Load Failure); the in-process site shop is fine.",
         [finding("ancm-handler-missing", ancm_root + ANCM_VERSION + "\\aspnetcorev2_outofprocess.dll")],
         "evaluated", ""),
        ("w2k19-iis10-webconfig-hostile", "webconfig-hostile", HOSTILE_SIZE,
         "Four sites whose web.config is malformed XML, UTF-16 with its BOM (read), 20,000 elements deep inside a "
         "declared section (read or refused, never a crash), and over the 1 MiB a web.config is read to: the "
         "unreadable ones are said, the install is partial, no finding.",
         [], "partial", "web.config file(s) could not be read"),
    ]
    for name, kind, size, desc, findings, status, reason in cases:
        vol, files, hives, meta = F.volume(name, lambda k=kind: server(k), size, label="Windows")
        F.place(vol, name + ".img")
        F.add(name, name + ".img", "raw", "bare", 0, 4096, files, hives, meta, desc, findings,
              status=status, reason=reason)
