// proxima-supervise DIR: the local executor's supervisor of one attempt
// (adapters/job_supervisor.h).
#include <cstdio>
#include <string>

#include "proxima/adapters/job_supervisor.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: proxima-supervise DIR (started by proxima's local executor)\n");
    return 2;
  }
  return proxima::SuperviseAttempt(argv[1]);
}
