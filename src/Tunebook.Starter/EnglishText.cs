using System.Text;

namespace Tunebook.Starter;

/// <summary>
/// Simple, grammatical English from small hand-written grammars: short stories, everyday facts, instructions,
/// and question/answer pairs. It gives the starter model enough general language to read questions and write
/// sentences; it is not meant to know the world, so every fact here is plain and true.
/// </summary>
public static class EnglishText
{
    sealed record Person(string Name, string Subject, string Object, string Possessive);

    static readonly Person[] People =
    [
        new("Mia", "she", "her", "her"), new("Leo", "he", "him", "his"), new("Nora", "she", "her", "her"),
        new("Sam", "he", "him", "his"), new("Ava", "she", "her", "her"), new("Omar", "he", "him", "his"),
        new("Lily", "she", "her", "her"), new("Ben", "he", "him", "his"), new("Zoe", "she", "her", "her"),
        new("Tom", "he", "him", "his"), new("Ella", "she", "her", "her"), new("Max", "he", "him", "his"),
        new("Ruby", "she", "her", "her"), new("Finn", "he", "him", "his"), new("Iris", "she", "her", "her"),
        new("Jack", "he", "him", "his"), new("Grace", "she", "her", "her"), new("Noah", "he", "him", "his"),
        new("Hana", "she", "her", "her"), new("Ravi", "he", "him", "his"), new("Lucy", "she", "her", "her"),
        new("Theo", "he", "him", "his"), new("Maya", "she", "her", "her"), new("Eli", "he", "him", "his"),
    ];

    static readonly string[] Roles = ["baker", "teacher", "farmer", "painter", "fisher", "doctor", "carpenter", "librarian", "pilot", "student", "nurse", "cook"];
    static readonly string[] Kind = ["kind", "cheerful", "curious", "quiet", "brave", "busy", "clever", "gentle", "patient", "friendly"];
    static readonly string[] Homes = ["small house", "blue cottage", "tall apartment", "little farmhouse", "house with a red door", "flat above a bakery"];
    static readonly string[] Landmarks = ["river", "old bridge", "big park", "train station", "harbor", "market", "forest", "hill", "lake", "library"];
    static readonly string[] Places = ["market", "park", "library", "beach", "bakery", "post office", "museum", "school", "station", "harbor", "forest", "zoo"];
    static readonly string[] Pets = ["dog", "cat", "rabbit", "parrot", "turtle", "hamster", "goat", "pony"];
    static readonly string[] PetNames = ["Biscuit", "Pepper", "Button", "Sunny", "Maple", "Pickle", "Rusty", "Daisy", "Shadow", "Coco"];
    static readonly string[] Objects = ["kite", "red ball", "old map", "blue bike", "wooden box", "green hat", "little boat", "music box", "yellow umbrella", "notebook"];
    static readonly string[] Sights = ["a small bird on a fence", "a rainbow over the hills", "a boat on the river", "an old man feeding ducks",
                                       "a cat sleeping in the sun", "a group of children playing", "a tall tree full of apples", "a bus full of people"];
    static readonly string[] Activities = ["reading a book", "painting a picture", "feeding the ducks", "selling fresh bread", "fixing a bicycle",
                                           "playing the guitar", "flying a kite", "looking for shells", "building a sand castle", "drawing the boats"];
    static readonly string[] Foods = ["apple pie", "soup", "bread and cheese", "pancakes", "rice and beans", "a warm cake", "sandwiches", "pasta"];

    static readonly (string Weather, string Then)[] Weathers =
    [
        ("sunny", "{s} wore a hat"), ("cold", "{s} put on a warm coat"), ("rainy", "{s} took an umbrella"),
        ("windy", "{s} held on to {p} hat"), ("warm", "{s} carried a bottle of water"), ("foggy", "{s} walked slowly"),
    ];

    static readonly (string Problem, string Fix)[] Problems =
    [
        ("{pet_name} ran away after a squirrel", "{N} called {pet_name} by name, and soon {pet_name} came back"),
        ("it started to rain very hard", "{N} and {M} waited under a tree until the rain stopped"),
        ("{N} dropped {p} {object} into the water", "{M} found a long stick and pulled the {object} out"),
        ("{N} could not find the way home", "{M} drew a small map, and {s} followed it all the way back"),
        ("the bakery had no bread left", "the baker gave {o} a fresh roll from the oven instead"),
        ("the wheel of the cart broke", "{N} and {M} fixed it with a piece of rope"),
        ("{N} forgot {p} bag at the {place}", "{s} went back, and the bag was still there"),
        ("a strong wind blew {p} hat away", "{M} ran after it and caught it"),
    ];

    static readonly (string Line, string Reply)[] Dialogues =
    [
        ("\"Hello, {N}!\" said {M}. \"Do you want to join me?\"", "\"Yes, please,\" said {N}."),
        ("\"What a nice {pet},\" said {M}. \"What is its name?\"", "\"Its name is {pet_name},\" said {N}."),
        ("\"I am glad to see you,\" said {M} with a smile.", "\"Me too,\" said {N}."),
        ("\"Where are you going?\" asked {M}.", "\"I am going for a walk,\" said {N}."),
    ];

    static readonly string[] Endings =
    [
        "In the end, {s} went home tired but happy.",
        "That night, {N} ate {food} and went to bed early. It had been a good day.",
        "From that day on, {N} and {M} were good friends.",
        "When the sun went down, {N} walked home and told {p} family everything.",
        "{N} smiled. Sometimes a small adventure is the best kind.",
        "Before bed, {N} wrote about the day in {p} notebook.",
    ];

    /// <summary>A short story of five to nine sentences.</summary>
    public static string Story(DeterministicRandom rng)
    {
        var a = rng.Pick(People);
        Person b;
        do b = rng.Pick(People); while (b == a);
        var slots = new Dictionary<string, string>
        {
            ["N"] = a.Name, ["s"] = a.Subject, ["o"] = a.Object, ["p"] = a.Possessive, ["M"] = b.Name,
            ["pet"] = rng.Pick(Pets), ["pet_name"] = rng.Pick(PetNames), ["object"] = rng.Pick(Objects),
            ["place"] = rng.Pick(Places), ["food"] = rng.Pick(Foods),
        };
        var sentences = new List<string>();
        switch (rng.Next(4))
        {
            case 0: sentences.Add($"{a.Name} was a {rng.Pick(Kind)} {rng.Pick(Roles)} who lived in a {rng.Pick(Homes)} near the {rng.Pick(Landmarks)}."); break;
            case 1: sentences.Add($"Once upon a time, there was a {rng.Pick(Kind)} child named {a.Name}."); break;
            case 2: sentences.Add(rng.Pick(new[] { "One morning, {N} woke up early and looked out of the window.", "One afternoon, {N} finished lunch and wanted to go outside." })); break;
            default: sentences.Add("{N} had a {pet} called {pet_name} and a {object} that {s} loved very much."); break;
        }
        var (weather, then) = rng.Pick(Weathers);
        sentences.Add($"The weather was {weather}, so {then}.");
        sentences.Add("{S} walked to the {place} with {p} {pet}, {pet_name}.");
        if (rng.Chance(0.6)) sentences.Add($"On the way, {{s}} saw {rng.Pick(Sights)}.");
        sentences.Add($"At the {{place}}, {{s}} met {{M}}, who was {rng.Pick(Activities)}.");
        if (rng.Chance(0.5))
        {
            var (line, reply) = rng.Pick(Dialogues);
            sentences.Add(line);
            sentences.Add(reply);
        }
        var (problem, fix) = rng.Pick(Problems);
        sentences.Add($"Suddenly, {problem}.");
        sentences.Add(UpperFirst(fix) + ".");
        sentences.Add(rng.Pick(Endings));
        var text = string.Join(' ', sentences);
        text = Fill(text.Replace("{S}", UpperFirst(a.Subject)), slots);
        return Capitalize(text) + "\n";
    }

    // --- facts ------------------------------------------------------------------------------------------

    static readonly string[] PlainFacts =
    [
        "Water boils at 100 degrees Celsius at sea level.", "Water freezes at 0 degrees Celsius.",
        "The sun rises in the east and sets in the west.", "A week has seven days.", "A year has twelve months.",
        "A day has twenty-four hours.", "An hour has sixty minutes.", "A minute has sixty seconds.",
        "Plants need light and water to grow.", "Bees make honey from the nectar of flowers.",
        "Fish breathe with gills.", "Birds have feathers and lay eggs.", "The moon goes around the earth.",
        "The earth goes around the sun.", "Ice is frozen water.", "Snow falls when it is very cold.",
        "A triangle has three sides.", "A square has four equal sides.", "A circle has no corners.",
        "Cows give milk.", "Bread is made from flour, water and yeast.", "Rain comes from clouds.",
        "Trees lose their leaves in autumn in many places.", "Summer is usually warmer than winter.",
        "A library lends books to people.", "A map shows where places are.", "A clock tells the time.",
        "Doctors help people who are sick.", "Farmers grow food.", "A bridge lets people cross a river.",
        "Spiders have eight legs.", "Insects have six legs.", "A dog has four legs.", "Owls are awake at night.",
        "Sound travels more slowly than light.", "Metal feels cold because it carries heat away from the hand.",
        "A thermometer measures temperature.", "A ruler measures length.", "A scale measures weight.",
        "Salt dissolves in water.", "Oil floats on water.", "Wood floats on water.", "Stones sink in water.",
    ];

    static readonly (string Thing, string Color)[] Colors =
    [
        ("grass", "green"), ("the sky on a clear day", "blue"), ("a banana", "yellow"), ("snow", "white"), ("coal", "black"),
        ("a ripe tomato", "red"), ("an orange", "orange"), ("a lemon", "yellow"), ("milk", "white"), ("a carrot", "orange"),
    ];

    static readonly (string Animal, string Sound)[] Sounds =
    [
        ("a cow", "moo"), ("a dog", "woof"), ("a cat", "meow"), ("a duck", "quack"), ("a sheep", "baa"), ("an owl", "hoot"),
    ];

    static readonly (string Animal, string Legs)[] Legs =
    [
        ("a spider", "eight"), ("a dog", "four"), ("a bird", "two"), ("an ant", "six"), ("a cat", "four"), ("a horse", "four"), ("a duck", "two"),
    ];

    static readonly (string Word, string Opposite)[] Opposites =
    [
        ("hot", "cold"), ("big", "small"), ("fast", "slow"), ("up", "down"), ("open", "closed"), ("day", "night"),
        ("light", "dark"), ("full", "empty"), ("early", "late"), ("wet", "dry"), ("old", "new"), ("loud", "quiet"),
    ];

    static readonly (string Country, string Capital)[] Capitals =
    [
        ("France", "Paris"), ("Japan", "Tokyo"), ("Italy", "Rome"), ("Spain", "Madrid"), ("Germany", "Berlin"),
        ("Egypt", "Cairo"), ("Canada", "Ottawa"), ("Kenya", "Nairobi"), ("Peru", "Lima"), ("Norway", "Oslo"),
    ];

    static readonly string[] Days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
    static readonly string[] Months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
    static readonly string[] NumberWords =
    [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
        "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
    ];

    /// <summary>A short paragraph of three to six true statements.</summary>
    public static string Facts(DeterministicRandom rng)
    {
        int n = rng.Next(3, 7);
        var lines = new List<string>();
        for (int i = 0; i < n; i++) lines.Add(rng.Chance(0.5) ? rng.Pick(PlainFacts) : QuestionAnswer(rng).Statement);
        return string.Join(' ', lines) + "\n";
    }

    /// <summary>One question with its answer; <see cref="Statement"/> is the answer as a standalone fact.</summary>
    public readonly record struct Qa(string Question, string Answer, string Statement);

    /// <summary>A general-knowledge question with a one-sentence answer.</summary>
    public static Qa QuestionAnswer(DeterministicRandom rng)
    {
        switch (rng.Next(10))
        {
            case 0:
            {
                var (thing, color) = rng.Pick(Colors);
                var s = $"{UpperFirst(thing)} is {color}.";
                return new($"What color is {thing}?", s, s);
            }
            case 1:
            {
                var (animal, sound) = rng.Pick(Sounds);
                var s = $"{UpperFirst(animal)} says {sound}.";
                return new($"What sound does {animal} make?", s, s);
            }
            case 2:
            {
                var (animal, legs) = rng.Pick(Legs);
                var s = $"{UpperFirst(animal)} has {legs} legs.";
                return new($"How many legs does {animal} have?", s, s);
            }
            case 3:
            {
                var (word, opposite) = rng.Pick(Opposites);
                var s = $"The opposite of {word} is {opposite}.";
                return new($"What is the opposite of {word}?", s, s);
            }
            case 4:
            {
                var (country, capital) = rng.Pick(Capitals);
                var s = $"The capital of {country} is {capital}.";
                return new($"What is the capital of {country}?", s, s);
            }
            case 5:
            {
                int i = rng.Next(7);
                var s = $"{Days[(i + 1) % 7]} comes after {Days[i]}.";
                return new($"What day comes after {Days[i]}?", s, s);
            }
            case 6:
            {
                int i = rng.Next(12);
                var s = $"{Months[(i + 1) % 12]} comes after {Months[i]}.";
                return new($"Which month comes after {Months[i]}?", s, s);
            }
            case 7:
            {
                int x = rng.Next(0, 11), y = rng.Next(0, 11);
                bool words = rng.Chance(0.5);
                string X = words ? NumberWords[x] : x.ToString(), Y = words ? NumberWords[y] : y.ToString(), Z = words ? NumberWords[x + y] : (x + y).ToString();
                var s = $"{UpperFirst(X)} plus {Y} is {Z}.";
                return new($"What is {X} plus {Y}?", s, s);
            }
            case 8:
            {
                int x = rng.Next(1, 21), y = rng.Next(0, x + 1);
                var s = $"{x} minus {y} is {x - y}.";
                return new($"What is {x} minus {y}?", s, s);
            }
            default:
            {
                var fact = rng.Pick(AnswerableFacts);
                return new(FactQuestion(fact)!, fact, fact);
            }
        }
    }

    // Questions whose answer is one of the plain facts, keyed by a word the fact contains.
    static string? FactQuestion(string fact) => fact switch
    {
        _ when fact.StartsWith("Water boils") => "At what temperature does water boil?",
        _ when fact.StartsWith("Water freezes") => "At what temperature does water freeze?",
        _ when fact.StartsWith("A week") => "How many days are in a week?",
        _ when fact.StartsWith("A year") => "How many months are in a year?",
        _ when fact.StartsWith("A day has") => "How many hours are in a day?",
        _ when fact.StartsWith("An hour") => "How many minutes are in an hour?",
        _ when fact.StartsWith("A minute") => "How many seconds are in a minute?",
        _ when fact.StartsWith("A triangle") => "How many sides does a triangle have?",
        _ when fact.StartsWith("Spiders") => "How many legs do spiders have?",
        _ when fact.StartsWith("Insects") => "How many legs do insects have?",
        _ when fact.StartsWith("A thermometer") => "What does a thermometer measure?",
        _ when fact.StartsWith("A ruler") => "What does a ruler measure?",
        _ when fact.StartsWith("A scale") => "What does a scale measure?",
        _ when fact.StartsWith("Bread") => "What is bread made from?",
        _ when fact.StartsWith("Bees") => "What do bees make?",
        _ when fact.StartsWith("Fish") => "How do fish breathe?",
        _ when fact.StartsWith("The sun rises") => "Where does the sun rise?",
        _ when fact.StartsWith("Ice") => "What is ice?",
        _ when fact.StartsWith("Plants") => "What do plants need to grow?",
        _ => null,
    };

    static readonly string[] AnswerableFacts = PlainFacts.Where(f => FactQuestion(f) is not null).ToArray();

    // --- instructions -----------------------------------------------------------------------------------

    static readonly (string Goal, string[] Steps)[] Procedures =
    [
        ("make a cup of tea", ["boil some water", "put a tea bag in a cup", "pour the hot water into the cup", "wait three minutes", "take out the tea bag"]),
        ("plant a seed", ["fill a small pot with soil", "make a hole with your finger", "drop the seed into the hole", "cover it with soil", "put the pot in a sunny place"]),
        ("wash your hands", ["wet your hands with water", "rub them with soap for twenty seconds", "rinse off the soap", "dry your hands with a clean towel"]),
        ("make a sandwich", ["take two slices of bread", "spread butter on one side of each slice", "add cheese and lettuce", "put the slices together", "cut the sandwich in half"]),
        ("boil an egg", ["put the egg in a small pan", "cover it with cold water", "bring the water to a boil", "cook the egg for eight minutes", "cool it in cold water"]),
        ("fold a paper plane", ["take a sheet of paper", "fold it in half along the long side", "fold the top corners to the middle", "fold the sides down to make wings", "throw it gently"]),
        ("send a letter", ["write the letter", "fold it and put it in an envelope", "write the address on the envelope", "stick a stamp in the corner", "post it in a mailbox"]),
        ("set the table", ["put a plate in front of each chair", "put a fork on the left of each plate", "put a knife and a spoon on the right", "add a glass for each person"]),
        ("pack a bag for school", ["check your timetable", "put in the books you need", "add a pencil case", "pack a snack and a bottle of water", "close the bag"]),
        ("clean a bike chain", ["put some old cloth under the chain", "brush off the dirt", "wipe the chain with a cloth", "add a few drops of oil", "turn the pedals to spread the oil"]),
        ("make pancakes", ["mix flour, eggs and milk in a bowl", "heat a pan with a little butter", "pour in some batter", "cook until bubbles appear", "flip the pancake and cook the other side"]),
        ("brush your teeth", ["put a little toothpaste on the brush", "brush every tooth for two minutes", "spit out the toothpaste", "rinse the brush"]),
    ];

    /// <summary>How to do an everyday thing, as a numbered list or as a paragraph.</summary>
    public static string Instructions(DeterministicRandom rng)
    {
        var (goal, steps) = rng.Pick(Procedures);
        var sb = new StringBuilder();
        if (rng.Chance(0.5))
        {
            sb.Append($"How to {goal}:\n");
            for (int i = 0; i < steps.Length; i++) sb.Append($"{i + 1}. {UpperFirst(steps[i])}.\n");
        }
        else
        {
            sb.Append($"Here is how to {goal}. ");
            sb.Append(InstructionParagraph(steps)).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>A question asking how to do something, with a short paragraph answer.</summary>
    public static Qa HowTo(DeterministicRandom rng)
    {
        var (goal, steps) = rng.Pick(Procedures);
        var answer = InstructionParagraph(steps);
        return new($"How do I {goal}?", answer, $"To {goal}, {LowerFirst(answer)}");
    }

    static string InstructionParagraph(string[] steps)
    {
        var parts = new List<string>();
        for (int i = 0; i < steps.Length; i++)
        {
            var lead = i == 0 ? "First, " : i == steps.Length - 1 ? "Finally, " : i == 1 ? "Then " : "Next, ";
            parts.Add(lead + steps[i] + ".");
        }
        return string.Join(' ', parts);
    }

    // --- helpers ----------------------------------------------------------------------------------------

    static string Fill(string text, Dictionary<string, string> slots)
    {
        foreach (var (k, v) in slots) text = text.Replace($"{{{k}}}", v);
        return text;
    }

    /// <summary>Capitalizes the first letter of each sentence (after ". ", "! ", "? " and at the start).</summary>
    static string Capitalize(string text)
    {
        var chars = text.ToCharArray();
        bool start = true;
        for (int i = 0; i < chars.Length; i++)
        {
            if (start && char.IsLetter(chars[i])) { chars[i] = char.ToUpperInvariant(chars[i]); start = false; }
            else if (chars[i] is '.' or '!' or '?') start = i + 1 < chars.Length && chars[i + 1] == ' ';
            else if (chars[i] != ' ' && chars[i] != '"') start = false;
        }
        return new string(chars);
    }

    static string UpperFirst(string s) => s.Length > 0 ? char.ToUpperInvariant(s[0]) + s[1..] : s;
    static string LowerFirst(string s) => s.Length > 0 ? char.ToLowerInvariant(s[0]) + s[1..] : s;
}
