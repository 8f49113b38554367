#include "tools/commands.h"

int main(int argc, char** argv) { return armap::tools::RunCli(argc, argv); }
