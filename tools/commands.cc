#include "tools/commands.h"

#include "core/logging.h"

namespace armap::tools {

std::string VersionString() { return std::string("armap ") + ARMAP_VERSION; }

CLI::App* EvalGroup(CLI::App& app) {
  for (CLI::App* sub : app.get_subcommands([](CLI::App* a) { return a->get_name() == "eval"; })) return sub;
  CLI::App* eval = app.add_subcommand("eval", "Evaluate products against ground truth (JSON + table)");
  eval->require_subcommand(1);
  return eval;
}

int RunCli(int argc, char** argv) {
  CLI::App app{"armap: AR mapping and visual positioning.\n"
               "Turns mapping-crew captures into map packages and localizes phone photos against them."};
  app.set_version_flag("--version", VersionString());
  app.require_subcommand(1);
  bool verbose = false, quiet = false;
  app.add_flag("-v,--verbose", verbose, "Debug logging");
  app.add_flag("-q,--quiet", quiet, "Warnings and errors only");
  int exit_code = 0;
  RegisterSynthCommands(app, &exit_code);
  RegisterMapCommands(app, &exit_code);
  RegisterLocalizeCommands(app, &exit_code);
  RegisterServeCommands(app, &exit_code);
  RegisterWhiteModelCommands(app, &exit_code);
  RegisterRoadsCommands(app, &exit_code);
  RegisterPoisCommands(app, &exit_code);
  RegisterNavigationCommands(app, &exit_code);
  app.parse_complete_callback([&] {
    InitLogging(verbose ? LogLevel::kDebug : quiet ? LogLevel::kWarn : LogLevel::kInfo);
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}

}  // namespace armap::tools
