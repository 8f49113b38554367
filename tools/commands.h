// The armap CLI: one binary, subcommands registered from the armap_tools
// library so tests can run commands in-process.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace armap::tools {

std::string VersionString();

// Builds the full command tree. Each Register* adds one group of commands and
// sets their callbacks; a callback stores its exit code in *exit_code.
void RegisterSynthCommands(CLI::App& app, int* exit_code);
void RegisterMapCommands(CLI::App& app, int* exit_code);
void RegisterLocalizeCommands(CLI::App& app, int* exit_code);
void RegisterServeCommands(CLI::App& app, int* exit_code);
// `armap eval whitemodel|roads|pois` (the map products).
void RegisterWhiteModelCommands(CLI::App& app, int* exit_code);
void RegisterRoadsCommands(CLI::App& app, int* exit_code);
void RegisterPoisCommands(CLI::App& app, int* exit_code);
// `armap route` and `armap eval navigation`.
void RegisterNavigationCommands(CLI::App& app, int* exit_code);

// The shared `armap eval` group (created on first use): every product's
// evaluation command registers under it.
CLI::App* EvalGroup(CLI::App& app);

// Runs the CLI on argv; returns the process exit code.
int RunCli(int argc, char** argv);

}  // namespace armap::tools
