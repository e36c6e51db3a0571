-- wrk script: take the request paths of a file (one per line) in turn.
-- Usage: wrk -t2 -c16 -d10s -s bench/varied.lua http://host:port -- paths.txt 2
-- Each of the N threads (second argument) starts at its own share of the file, so
-- the threads do not ask the same questions at the same moment.
local threads = 0

function setup(thread)
  thread:set("thread_index", threads)
  threads = threads + 1
end

function init(args)
  paths = {}
  for line in io.lines(args[1]) do
    paths[#paths + 1] = line
  end
  local count = tonumber(args[2]) or 1
  position = math.floor(#paths * thread_index / count)
end

function request()
  position = position % #paths + 1
  return wrk.format("GET", paths[position])
end
