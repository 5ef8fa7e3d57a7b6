#!/usr/bin/env bash
# Takes docs/images/web-sample.png again: starts the web sample on the quick start's model, opens one indexed note in
# a headless Chromium (Debian: apt-get install chromium) once the page has its answers, and saves the page.
#
#   samples/NoteLLM.Web/screenshot.sh [note id (amavisd-milter)] [model.zip (quickstart-output/model.zip)]
set -euo pipefail
cd "$(dirname "$0")/../.."
id="${1:-amavisd-milter}"
model="${2:-quickstart-output/model.zip}"
url="http://127.0.0.1:${PORT:-5093}"
out="docs/images/web-sample.png"

dotnet build -c Release samples/NoteLLM.Web/NoteLLM.Web.csproj -v quiet -nologo
dotnet samples/NoteLLM.Web/bin/Release/net10.0/NoteLLM.Web.dll --model "$model" --urls "$url" &
app=$!
trap 'kill "$app"' EXIT
for _ in $(seq 300); do
    curl -sf "$url/api/notes?limit=1" > /dev/null && break
    kill -0 "$app" || exit 1 # the app stopped: its error is above
    sleep 1
done

mkdir -p "$(dirname "$out")"
# Virtual time does not advance while fetches are pending, so the budget waits for the page's API calls.
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,860 \
    --virtual-time-budget=60000 --screenshot="$out" "$url/?id=$id"
echo "wrote $out"
