/* yard.c - the yard command-line client.
 *
 * Everything but the process itself lives in cli_commands.c (cli_run), so
 * the unit tests run the same code in-process.
 */
#include <stdio.h>

#include "cli_commands.h"

int
main (int argc, char **argv)
{
    return cli_run (argc, argv, stdout, stderr);
}
