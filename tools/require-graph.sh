#!/usr/bin/env bash
# require-graph.sh — the require graph of the Lua modules in scripts/pedlab/ and its folders
# (commands/rank.lua is pedlab.commands.rank, commands/init.lua pedlab.commands): module A
# depends on B when A's file requires "pedlab.B" (or "pedlab", which is init.lua), at the top
# or lazily inside a function: require "pedlab.B", require("pedlab.B"), require 'pedlab.B' and
# pcall(require, "pedlab.B") all count; comments do not, nor a name built at run time
# (require("pedlab." .. k)) or a module with no file (pedlab.core is the C module). Prints one
# "A -> B" line per edge with --print and fails (exit 1) printing every cycle found, as
# "A -> B -> A" with the line of each require, so the modules keep calling only down
# (the Lua counterpart of tools/include-graph.sh).
#
#   bash tools/require-graph.sh           # check; the edges with --print
#   bash tools/require-graph.sh --print
# PL_REQUIRE_DIR=DIR checks another folder of modules named pedlab.* (tools/lint.sh's self-test).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
dir=${PL_REQUIRE_DIR:-scripts/pedlab}
PRINT=0
[ "${1:-}" = --print ] && PRINT=1
PRINT=$PRINT perl -e '
  use strict; use warnings;
  my $dir = shift;
  my (%edge, %where);
  -d $dir or die "require-graph: cannot read $dir\n";
  # every .lua below dir: a/b.lua is pedlab.a.b, a/init.lua is pedlab.a, init.lua is pedlab
  my @files;
  my @todo = ("");
  while (defined(my $sub = shift @todo)) {
    opendir(my $dh, "$dir/$sub") or die "require-graph: cannot read $dir/$sub: $!\n";
    for my $e (sort readdir $dh) {
      next if $e =~ /^\./;
      if (-d "$dir/$sub$e") { push @todo, "$sub$e/" }
      elsif ($e =~ /\.lua$/) { push @files, "$sub$e" }
    }
  }
  my %name = map { my $m = $_; $m =~ s/\.lua$//; $m =~ s{(^|/)init$}{}; $m =~ s{/}{.}g;
    ($_ => ($m eq "" ? "pedlab" : "pedlab.$m")) } @files;
  my %exists = map { $_ => 1 } values %name;
  for my $f (@files) {
    my $from = $name{$f};
    open(my $fh, "<", "$dir/$f") or die "require-graph: cannot read $dir/$f: $!\n";
    my $long;    # inside a long string or comment: its closing bracket
    while (my $line = <$fh>) {
      # the code of the line: comments and long brackets dropped, strings emptied except the
      # one naming a required module (a "require" in a comment or a string is no require)
      my ($code, $s) = ("", $line);
      while (length $s) {
        if (defined $long) {
          if ($s =~ s/^.*?\]$long\]//s) { $long = undef; $code .= " " } else { $s = "" }
        } elsif ($s =~ s/^(?:--)?\[(=*)\[//) { $long = $1;
        } elsif ($s =~ s/^--.*//s) {
        } elsif ($s =~ s/^("(?:[^"\\]|\\.)*"|\x27(?:[^\x27\\]|\\.)*\x27)//) {
          my $lit = $1;
          $code .= $code =~ /\brequire\s*(?:\(\s*|,\s*)?$/ ? $lit : "\"\"";
        } else { $s =~ s/^(.[^"\x27\[-]*)//s; $code .= $1 }
      }
      while ($code =~ /\brequire\s*(?:\(\s*|,\s*)?(["\x27])(pedlab(?:\.\w+)*)\1/g) {
        my $to = $2;
        next if $to eq $from || !$exists{$to};
        $edge{$from}{$to} = 1;
        $where{"$from $to"} //= "$dir/$f:$.";
      }
    }
  }
  my $n = 0;
  for my $a (sort keys %edge) {
    for my $b (sort keys %{$edge{$a}}) {
      $n++;
      print "$a -> $b\n" if $ENV{PRINT};
    }
  }
  # depth-first search; a back edge closes a cycle: the path from its target to here
  my (%state, @path, %seen, @cycles);
  my $visit;
  $visit = sub {
    my ($m) = @_;
    $state{$m} = 1;
    push @path, $m;
    for my $to (sort keys %{$edge{$m} || {}}) {
      if (($state{$to} // 0) == 1) {
        my ($i) = grep { $path[$_] eq $to } 0 .. $#path;
        my @c = (@path[$i .. $#path], $to);
        my $key = join " ", sort @c[0 .. $#c - 1];
        push @cycles, [@c] unless $seen{$key}++;
      } elsif (!$state{$to}) {
        $visit->($to);
      }
    }
    pop @path;
    $state{$m} = 2;
  };
  for my $m (sort keys %exists) { $visit->($m) unless $state{$m} }
  if (!@cycles) {
    print "require-graph: $dir has no require cycle ($n edges)\n";
    exit 0;
  }
  for my $c (@cycles) {
    print STDERR "require-graph: require cycle in $dir: " . join(" -> ", @$c) . "\n";
    print STDERR "  $where{\"$c->[$_] $c->[$_ + 1]\"}: $c->[$_] requires $c->[$_ + 1]\n"
      for 0 .. $#$c - 1;
  }
  exit 1;
' "$dir"
