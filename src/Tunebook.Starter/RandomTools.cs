namespace Tunebook.Starter;

/// <summary>
/// Invents small fictional command-line tools (each a valid <see cref="CliSpec"/>) for the starter corpus, so
/// the pretrained model learns how tool documentation reads and how questions about tools are answered with
/// commands, without ever seeing the domain tool used for fine-tuning. Domains are deliberately far from
/// garden irrigation.
/// </summary>
public static class RandomTools
{
    /// <summary>Tool names that must never be invented: the domain tools that fine-tuning teaches.</summary>
    public static readonly IReadOnlySet<string> ReservedNames = new HashSet<string> { "puddle" };

    sealed record Resource(string Noun, string Plural, string[] Items);

    /// <summary>An action command: "bake {main}" with one option whose value the question says.</summary>
    sealed record Action(string Verb, string Summary, string Description, string Ask,
        string Option, string Value, string Default, string OptionDescription, string OptionAsk, string[] Values);

    sealed record Domain(string Summary, string Description, Resource Main, Resource Second, Action[] Actions, string Server);

    static readonly Domain[] Domains =
    [
        new("keep track of a home library", "It records the books you own, the shelves they sit on and who borrowed them.",
            new("book", "books", ["dune", "emma", "beloved", "walden", "matilda", "hamlet", "ulysses"]),
            new("shelf", "shelves", ["hall", "attic", "study", "kitchen"]),
            [new("lend", "lend a book to a friend", "Marks a book as lent and remembers who has it.", "lend the {main} book",
                 "--to", "NAME", "a friend", "Who borrows the book.", "to {v}", ["Ana", "Kofi", "Lena", "Marco"]),
             new("return", "mark a book as returned", "Marks a lent book as back on its shelf.", "mark the {main} book as returned",
                 "--shelf", "SHELF", "its old shelf", "The shelf the book goes back to.", "and put it on the {v} shelf", ["hall", "attic", "study"])],
            "catalog"),
        new("plan bread baking", "It times doughs, ovens and recipes for a small bakery.",
            new("loaf", "loaves", ["rye", "sourdough", "brioche", "baguette", "spelt", "challah"]),
            new("oven", "ovens", ["left", "right", "stone", "deck"]),
            [new("bake", "bake a loaf now", "Starts baking a loaf and rings when it is done.", "bake the {main} loaf",
                 "--minutes", "N", "35", "How long to bake, in minutes.", "for {v} minutes", ["25", "40", "50"]),
             new("proof", "let a dough rise", "Starts a rising timer for a dough.", "let the {main} dough rise",
                 "--hours", "N", "2", "How long the dough rises, in hours.", "for {v} hours", ["1", "3", "12"])],
            "oven server"),
        new("log bird sightings", "It records the birds you see on walks and where you saw them.",
            new("sighting", "sightings", ["heron", "robin", "kestrel", "wren", "puffin", "owl"]),
            new("trip", "trips", ["marsh", "coast", "woods", "moor"]),
            [new("spot", "record a sighting", "Adds a sighting with the time and place.", "record a {main} sighting",
                 "--count", "N", "1", "How many birds you saw.", "of {v} birds", ["2", "5", "12"]),
             new("tally", "count the sightings of a bird", "Counts every sighting of one bird.", "count all {main} sightings",
                 "--year", "YEAR", "this year", "Count only one year.", "in {v}", ["2023", "2024", "2025"])],
            "birding server"),
        new("look after an aquarium", "It tracks tanks, fish and feeding times.",
            new("tank", "tanks", ["reef", "guppy", "shrimp", "pond", "nano"]),
            new("fish", "fish", ["tetra", "molly", "betta", "danio", "pleco"]),
            [new("feed", "feed a tank now", "Runs the feeder of a tank once.", "feed the {main} tank",
                 "--grams", "N", "2", "How much food to drop, in grams.", "with {v} grams of food", ["1", "3", "5"]),
             new("light", "switch a tank light", "Turns the light of a tank on or off.", "turn on the light of the {main} tank",
                 "--hours", "N", "8", "How long the light stays on.", "for {v} hours", ["6", "10", "12"])],
            "tank hub"),
        new("run a bicycle workshop", "It tracks bikes in for repair, parts and jobs.",
            new("bike", "bikes", ["roadster", "tandem", "cargo", "gravel", "folding"]),
            new("part", "parts", ["chain", "saddle", "brake", "pedal", "tire"]),
            [new("repair", "open a repair job", "Opens a repair job for a bike.", "open a repair job for the {main} bike",
                 "--due", "DATE", "in three days", "When the bike must be ready.", "due on {v}", ["2025-03-02", "2025-04-11", "2025-05-20"]),
             new("inspect", "check a bike", "Prints a safety checklist for a bike.", "print a safety checklist for the {main} bike",
                 "--level", "LEVEL", "basic", "How thorough the check is.", "at the {v} level", ["basic", "full"])],
            "workshop server"),
        new("organize music practice", "It plans practice sessions, songs and scales.",
            new("song", "songs", ["lullaby", "waltz", "blues", "ballad", "march", "reel"]),
            new("playlist", "playlists", ["warmup", "concert", "evening", "lesson"]),
            [new("practice", "start a practice session", "Starts a practice timer for a song.", "practice the {main} song",
                 "--tempo", "BPM", "90", "The metronome speed in beats per minute.", "at {v} beats per minute", ["60", "80", "120"]),
             new("record", "record a take", "Records a take of a song from the microphone.", "record a take of the {main} song",
                 "--takes", "N", "1", "How many takes to record.", "{v} times", ["2", "3", "5"])],
            "studio server"),
        new("manage beehives", "It records hives, inspections and honey harvests.",
            new("hive", "hives", ["meadow", "orchard", "ridge", "barnyard", "heath"]),
            new("frame", "frames", ["brood", "honey", "pollen", "empty"]),
            [new("inspect", "log a hive inspection", "Records an inspection of a hive.", "log an inspection of the {main} hive",
                 "--notes", "TEXT", "empty", "A short note about what you saw.", "with the note {v}", ["calm", "queen-seen", "needs-space"]),
             new("harvest", "record a harvest", "Records the honey taken from a hive.", "record a harvest from the {main} hive",
                 "--kilos", "N", "0", "How much honey, in kilograms.", "of {v} kilos", ["4", "7", "12"])],
            "apiary server"),
        new("keep a pantry stocked", "It tracks jars, what is left in them and where you buy them.",
            new("jar", "jars", ["flour", "rice", "lentils", "oats", "sugar", "beans"]),
            new("shop", "shops", ["market", "corner", "bulk", "farm"]),
            [new("use", "use some of a jar", "Lowers the amount left in a jar.", "use some of the {main} jar",
                 "--grams", "N", "100", "How much you used, in grams.", "taking {v} grams", ["50", "250", "500"]),
             new("refill", "refill a jar", "Marks a jar as full again.", "refill the {main} jar",
                 "--from", "SHOP", "the market", "The shop the refill came from.", "from the {v} shop", ["market", "corner", "farm"])],
            "kitchen hub"),
        new("plan nights of star gazing", "It keeps a list of sky objects and telescope sessions.",
            new("target", "targets", ["orion", "vega", "andromeda", "pleiades", "saturn", "jupiter"]),
            new("session", "sessions", ["friday", "moonless", "club", "backyard"]),
            [new("point", "point the telescope", "Turns the telescope toward a sky object.", "point the telescope at {main}",
                 "--zoom", "N", "1", "The zoom factor of the eyepiece.", "with a zoom of {v}", ["2", "4", "8"]),
             new("photo", "take a sky photo", "Takes a long exposure photo of a sky object.", "photograph {main}",
                 "--seconds", "N", "30", "The exposure time in seconds.", "with a {v} second exposure", ["10", "60", "120"])],
            "telescope mount"),
        new("sort a photo album", "It files photos into albums and tags them.",
            new("album", "albums", ["holiday", "wedding", "family", "winter", "travel"]),
            new("tag", "tags", ["beach", "snow", "city", "portrait", "sunset"]),
            [new("import", "import photos", "Copies photos from a camera card into an album.", "import photos into the {main} album",
                 "--from", "PATH", "the camera card", "Where to copy the photos from.", "from {v}", ["/media/card", "~/Downloads", "/mnt/phone"]),
             new("slideshow", "play a slideshow", "Shows an album as a slideshow.", "play the {main} album as a slideshow",
                 "--delay", "SECONDS", "5", "How long each photo stays on screen.", "with {v} seconds per photo", ["2", "8", "10"])],
            "photo server"),
        new("track knitting projects", "It records projects, yarn and row counts.",
            new("project", "projects", ["scarf", "sweater", "mittens", "blanket", "beanie"]),
            new("yarn", "yarns", ["merino", "cotton", "alpaca", "mohair"]),
            [new("count", "add rows to a project", "Adds finished rows to a project's counter.", "add rows to the {main} project",
                 "--rows", "N", "1", "How many rows you finished.", "adding {v} rows", ["4", "10", "20"]),
             new("pattern", "print a pattern", "Prints the pattern of a project.", "print the pattern of the {main} project",
                 "--size", "SIZE", "medium", "The size to print the pattern for.", "in size {v}", ["small", "large"])],
            "craft server"),
        new("run a chess club", "It tracks members, games and ratings.",
            new("player", "players", ["alice", "boris", "chen", "dara", "emil", "fatou"]),
            new("event", "events", ["blitz", "league", "open", "junior"]),
            [new("pair", "pair players for a round", "Pairs a player with an opponent of similar rating.", "find an opponent for {main}",
                 "--round", "N", "1", "The round number.", "in round {v}", ["2", "4", "7"]),
             new("rate", "update a rating", "Recomputes a player's rating after a game.", "update the rating of {main}",
                 "--result", "RESULT", "draw", "The result of the game.", "after a {v}", ["win", "loss", "draw"])],
            "club server"),
    ];

    static readonly string[] Onsets = ["b", "br", "k", "kr", "d", "dr", "f", "fl", "g", "gl", "m", "n", "p", "pl", "s", "st", "t", "tr", "v", "z", "l", "r", "h", "j", "sk", "qu"];
    static readonly string[] Vowels = ["a", "e", "i", "o", "u", "ai", "ee", "oo", "ou", "y"];
    static readonly string[] Codas = ["", "", "n", "m", "l", "r", "x", "t", "k", "s", "sh", "nd", "rk"];

    /// <summary>A pronounceable invented name such as "kranto" or "gleeshmo".</summary>
    public static string InventName(DeterministicRandom rng)
    {
        while (true)
        {
            var name = rng.Pick(Onsets) + rng.Pick(Vowels) + rng.Pick(Codas) + rng.Pick(Onsets) + rng.Pick(Vowels) + (rng.Chance(0.4) ? rng.Pick(Codas) : "");
            if (name.Length is >= 4 and <= 9 && !ReservedNames.Any(r => name.Contains(r[..3]))) return name;
        }
    }

    /// <summary>A new random tool: a name, one domain, 12–20 commands, options with defaults, configuration,
    /// environment variables and exit codes. Always passes <see cref="CliSpec.Validate"/>.</summary>
    public static CliSpec Invent(DeterministicRandom rng)
    {
        var d = rng.Pick(Domains);
        var name = InventName(rng);
        var env = name.ToUpperInvariant().Replace('-', '_');
        var main = d.Main; var second = d.Second;
        var spec = new CliSpec
        {
            Name = name,
            Version = $"{rng.Next(0, 4)}.{rng.Next(0, 10)}.{rng.Next(0, 10)}",
            Summary = d.Summary,
            Description = $"{name} is a small tool to {d.Summary}. {d.Description} It stores everything in one file and can sync with a {d.Server}.",
            Slots = new()
            {
                ["main"] = main.Items.Select(SlotValue.Same).ToList(),
                ["second"] = second.Items.Select(SlotValue.Same).ToList(),
                ["newname"] = new[] { "old", "spare", "extra", "archive" }.Select(SlotValue.Same).ToList(),
                ["limit"] = new[] { "5", "10", "25" }.Select(SlotValue.Same).ToList(),
                ["remote"] = new[] { "home", "office", "club", "backup" }.Select(SlotValue.Same).ToList(),
                ["since"] = [new SlotValue("the last 3 days", "3d"), new SlotValue("the last month", "30d"), new SlotValue("today", "1d")],
            },
        };

        // Synonyms vary between tools, so the model learns to read a tool's own words rather than guess.
        string list = rng.Pick(new[] { "list", "ls" }), remove = rng.Pick(new[] { "remove", "delete", "rm" }), show = rng.Pick(new[] { "show", "info" });
        string limitName = rng.Pick(new[] { "--limit", "--max", "--count" });
        string format = rng.Pick(new[] { "--json", "--csv" });

        foreach (var r in new[] { main, second })
        {
            spec.Commands.Add(new CliCommand
            {
                Name = $"{r.Noun} add", Summary = $"add a {r.Noun}", Description = $"Adds a {r.Noun} and gives it a name.",
                Arguments = [new() { Name = "NAME", Description = $"The name of the new {r.Noun}." }],
                Options = [new() { Name = "--note", Value = "TEXT", Description = $"A short note stored with the {r.Noun}." }],
                Tasks = [new() { Ask = $"add a {r.Noun} called {{{Slot(r, main)}}}", Run = $"{name} {r.Noun} add {{{Slot(r, main)}}}" },
                         new() { Ask = $"add the {{{Slot(r, main)}}} {r.Noun} with a note saying {{newname}}", Run = $"{name} {r.Noun} add {{{Slot(r, main)}}} --note {{newname}}" }],
            });
            spec.Commands.Add(new CliCommand
            {
                Name = $"{r.Noun} {list}", Summary = $"list the {r.Plural}", Description = $"Lists every {r.Noun}, newest first.",
                Options =
                [
                    new() { Name = limitName, Value = "N", Default = rng.Pick(new[] { "20", "50", "100" }), Description = $"The most {r.Plural} to show." },
                    new() { Name = format, Description = $"Print the list as {format[2..].ToUpperInvariant()}." },
                ],
                Tasks = [new() { Ask = $"list all {r.Plural}", Run = $"{name} {r.Noun} {list}" },
                         new() { Ask = $"show only the first {{limit}} {r.Plural}", Run = $"{name} {r.Noun} {list} {limitName} {{limit}}" },
                         new() { Ask = $"print the {r.Plural} as {format[2..].ToUpperInvariant()}", Run = $"{name} {r.Noun} {list} {format}" }],
            });
            spec.Commands.Add(new CliCommand
            {
                Name = $"{r.Noun} {remove}", Summary = $"remove a {r.Noun}", Description = $"Removes a {r.Noun}. It asks first unless you pass --yes.",
                Arguments = [new() { Name = "NAME", Description = $"The {r.Noun} to remove." }],
                Options = [new() { Name = "--yes", Description = "Do not ask for confirmation." }],
                Tasks = [new() { Ask = $"remove the {{{Slot(r, main)}}} {r.Noun}", Run = $"{name} {r.Noun} {remove} {{{Slot(r, main)}}}" },
                         new() { Ask = $"remove the {{{Slot(r, main)}}} {r.Noun} without being asked", Run = $"{name} {r.Noun} {remove} {{{Slot(r, main)}}} --yes" }],
            });
            if (rng.Chance(0.7))
                spec.Commands.Add(new CliCommand
                {
                    Name = $"{r.Noun} {show}", Summary = $"show one {r.Noun}", Description = $"Shows everything stored about a {r.Noun}.",
                    Arguments = [new() { Name = "NAME", Description = $"The {r.Noun} to show." }],
                    Tasks = [new() { Ask = $"see the details of the {{{Slot(r, main)}}} {r.Noun}", Run = $"{name} {r.Noun} {show} {{{Slot(r, main)}}}" }],
                });
            if (rng.Chance(0.5))
                spec.Commands.Add(new CliCommand
                {
                    Name = $"{r.Noun} rename", Summary = $"rename a {r.Noun}", Description = $"Gives a {r.Noun} a new name.",
                    Arguments = [new() { Name = "OLD", Description = "The current name." }, new() { Name = "NEW", Description = "The new name." }],
                    Tasks = [new() { Ask = $"rename the {{{Slot(r, main)}}} {r.Noun} to {{newname}}", Run = $"{name} {r.Noun} rename {{{Slot(r, main)}}} {{newname}}" }],
                });
        }

        foreach (var a in d.Actions)
        {
            var slot = $"{a.Verb}_value";
            spec.Slots[slot] = a.Values.Select(SlotValue.Same).ToList();
            var option = new CliOption { Name = a.Option, Value = a.Value, Default = a.Default, Description = a.OptionDescription };
            spec.Commands.Add(new CliCommand
            {
                Name = a.Verb, Summary = a.Summary, Description = a.Description,
                Arguments = [new() { Name = main.Noun.ToUpperInvariant(), Description = $"The {main.Noun}." }],
                Options = [option],
                Tasks = [new() { Ask = a.Ask, Run = $"{name} {a.Verb} {{main}}" },
                         new() { Ask = $"{a.Ask} {a.OptionAsk.Replace("{v}", $"{{{slot}}}")}", Run = $"{name} {a.Verb} {{main}} {a.Option} {{{slot}}}" }],
            });
        }

        spec.Commands.Add(new CliCommand
        {
            Name = "sync", Summary = $"sync with the {d.Server}", Description = $"Sends local changes to the {d.Server} and fetches its changes.",
            Options = [new() { Name = "--remote", Value = "NAME", Default = "the remote set in sync.remote", Description = "The remote to sync with." },
                       new() { Name = "--dry-run", Description = "Show what would change without changing anything." }],
            Tasks = [new() { Ask = $"sync with the {d.Server}", Run = $"{name} sync" },
                     new() { Ask = "sync with the {remote} remote", Run = $"{name} sync --remote {{remote}}" },
                     new() { Ask = "see what a sync would change", Run = $"{name} sync --dry-run" }],
        });
        if (rng.Chance(0.7))
            spec.Commands.Add(new CliCommand
            {
                Name = "history", Summary = "show recent changes", Description = "Shows recent changes, newest first.",
                Options = [new() { Name = "--since", Value = "DURATION", Description = "Show changes newer than this, such as 3d." }],
                Tasks = [new() { Ask = "see the recent changes", Run = $"{name} history" },
                         new() { Ask = "see the changes from {since}", Run = $"{name} history --since {{since}}" }],
            });
        var keys = new List<CliConfigKey>
        {
            new() { Name = "sync.remote", Default = "the first remote", Example = "office", Description = "The remote that sync uses without --remote." },
            new() { Name = $"{main.Noun}.sort", Default = "name", Example = "date", Description = $"How {main.Plural} are sorted in lists." },
            new() { Name = "ui.color", Default = "true", Example = "false", Description = "Whether the output is colored." },
        };
        spec.Commands.Add(new CliCommand
        {
            Name = "config get", Summary = "print a setting", Description = "Prints one setting.",
            Arguments = [new() { Name = "KEY", Description = "The setting." }],
            Tasks = [new() { Ask = $"print the {main.Noun}.sort setting", Run = $"{name} config get {main.Noun}.sort" }],
        });
        spec.Commands.Add(new CliCommand
        {
            Name = "config set", Summary = "change a setting", Description = "Changes one setting.",
            Arguments = [new() { Name = "KEY", Description = "The setting." }, new() { Name = "VALUE", Description = "The new value." }],
            Tasks = [new() { Ask = "turn off colored output for good", Run = $"{name} config set ui.color false" },
                     new() { Ask = "make {remote} the default remote", Run = $"{name} config set sync.remote {{remote}}" }],
        });
        if (rng.Chance(0.6))
            spec.Commands.Add(new CliCommand
            {
                Name = "doctor", Summary = "check the setup", Description = $"Checks the data file and the connection to the {d.Server}.",
                Tasks = [new() { Ask = $"check that {name} is set up correctly", Run = $"{name} doctor" }],
            });
        spec.Commands.Add(new CliCommand
        {
            Name = "version", Summary = "print the version", Description = $"Prints the version of {name}.",
            Tasks = [new() { Ask = $"find out which version of {name} I have", Run = $"{name} version" }],
        });

        spec.GlobalOptions =
        [
            new() { Name = "--quiet", Description = "Print only errors.", Example = $"{name} --quiet sync" },
            new() { Name = "--file", Value = "PATH", Default = $"~/.{name}/data.db", Description = "Use another data file.", Example = $"{name} --file ~/other.db {main.Noun} {list}" },
        ];
        spec.Config = new CliConfig { File = $"~/.{name}/config.toml", Description = $"Settings for {name}, one key per line.", Keys = keys };
        spec.Environment =
        [
            new() { Name = $"{env}_FILE", Description = "Sets the data file, like --file.", Ask = "use another data file through an environment variable",
                    Example = $"{env}_FILE=~/other.db {name} {main.Noun} {list}" },
            new() { Name = $"{env}_TOKEN", Description = $"Holds the access token for the {d.Server}.", Ask = $"give {name} my access token",
                    Example = $"{env}_TOKEN=abc123 {name} sync" },
        ];
        spec.ExitCodes =
        [
            new() { Code = 0, Meaning = "success", Hint = $"{name} history" },
            new() { Code = 1, Meaning = "a general error", Hint = $"{name} version" },
            new() { Code = 2, Meaning = "a usage error", Hint = $"{name} {main.Noun} add --help" },
            new() { Code = 3, Meaning = $"the {d.Server} could not be reached", Hint = $"{name} sync --dry-run" },
            new() { Code = 4, Meaning = $"the {main.Noun} does not exist", Hint = $"{name} {main.Noun} {list}" },
        ];
        if (!spec.Commands.Any(c => c.Name == "history")) spec.ExitCodes[0].Hint = $"{name} version";
        spec.Validate($"invented tool {name}");
        return spec;
    }

    static string Slot(Resource r, Resource main) => r == main ? "main" : "second";
}
