// SPDX-License-Identifier: Apache-2.0

/// The small word-feature table behind the scripted defenders' clues and votes (our stand-in for the
/// paper's GPT-4 defenders). Each word has three short features; a clue "matches" a word when it
/// shares a content word with the word's features or names the word.
public enum WordFeatures {
    /// Chameleon topics and their eight words (the released code's default topic list).
    public static let topics: [(topic: String, words: [String])] = [
        ("Fruits", ["Apple", "Banana", "Orange", "Grape", "Strawberry", "Pineapple", "Mango", "Watermelon"]),
        ("Animals", ["Lion", "Elephant", "Giraffe", "Monkey", "Zebra", "Tiger", "Bear", "Kangaroo"]),
        ("Sports", ["Soccer", "Basketball", "Tennis", "Baseball", "Swimming", "Cycling", "Volleyball", "Golf"]),
        ("Countries", ["United States", "Canada", "Brazil", "United Kingdom", "France", "Germany", "Japan", "Australia"]),
    ]

    /// Generic clues for a topic (what a chameleon says before it has a guess).
    public static let topicClues: [String: [String]] = [
        "Fruits": ["It is sweet and healthy.", "You can find it at the market.", "It grows on a plant."],
        "Animals": ["It lives in the wild.", "You can see it at the zoo.", "It has four legs."],
        "Sports": ["It is played for fun.", "You need some practice.", "People watch it on TV."],
        "Countries": ["It has a big capital city.", "Many tourists visit it.", "It has a national flag."],
    ]

    /// Undercover word pairs (related but different).
    public static let undercoverPairs: [(String, String)] = [
        ("viewer", "listener"), ("coffee", "tea"), ("cat", "dog"), ("piano", "guitar"), ("train", "bus"),
        ("river", "lake"), ("pencil", "pen"), ("winter", "autumn"), ("doctor", "nurse"), ("moon", "sun"),
        ("butter", "cheese"), ("boat", "ship"), ("shoe", "boot"), ("rain", "snow"), ("bread", "cake"),
        ("book", "magazine"), ("chair", "sofa"), ("rose", "tulip"), ("camera", "phone"), ("bee", "butterfly"),
    ]

    /// Three features per word.
    public static let features: [String: [String]] = [
        "Apple": ["It keeps the doctor away.", "It is red or green and crunchy.", "It is used in a classic pie."],
        "Banana": ["It is long and yellow.", "Monkeys love it.", "You peel it before eating."],
        "Orange": ["It is full of vitamin C.", "Its name is also a colour.", "It is a round citrus."],
        "Grape": ["It is often used to make wine.", "It grows in bunches on vines.", "It is small and round."],
        "Strawberry": ["It has seeds on the outside.", "It is red and heart shaped.", "It goes with cream."],
        "Pineapple": ["It has a spiky crown.", "It is tropical with rough skin.", "People argue about it on pizza."],
        "Mango": ["It is tropical with a big stone.", "It is orange inside and juicy.", "It is loved in India."],
        "Watermelon": ["It is huge and green outside.", "It is red inside with black seeds.", "It is a summer picnic favourite."],
        "Lion": ["It is the king of the jungle.", "The male has a mane.", "It roars on the savanna."],
        "Elephant": ["It has a long trunk.", "It has big ears and tusks.", "It never forgets."],
        "Giraffe": ["It has a very long neck.", "It eats leaves from tall trees.", "It has brown patches."],
        "Monkey": ["It swings from trees.", "It loves bananas.", "It is a playful primate."],
        "Zebra": ["It has black and white stripes.", "It looks like a striped horse.", "It runs in herds on the savanna."],
        "Tiger": ["It has orange fur with stripes.", "It is the biggest wild cat.", "It hunts in the jungle alone."],
        "Bear": ["It sleeps all winter.", "It loves honey.", "It can be brown, black or polar."],
        "Kangaroo": ["It hops on strong legs.", "It carries a baby in a pouch.", "It lives in the outback."],
        "Soccer": ["You kick the ball into a goal.", "It has a World Cup.", "Only the goalkeeper uses hands."],
        "Basketball": ["You shoot the ball through a hoop.", "Players dribble on a court.", "Tall players slam dunk."],
        "Tennis": ["You hit a ball over a net with a racket.", "It has Wimbledon.", "Scores go love, fifteen, thirty."],
        "Baseball": ["You hit the ball with a bat.", "Players run around bases.", "A pitcher throws to the batter."],
        "Swimming": ["It happens in a pool.", "Strokes include freestyle.", "You need goggles and water."],
        "Cycling": ["You ride a bike.", "It has the Tour de France.", "You pedal with a helmet on."],
        "Volleyball": ["You spike the ball over a high net.", "It is played on the beach.", "Teams bump, set and spike."],
        "Golf": ["You hit a small ball into a hole.", "Players use clubs on a course.", "A hole in one is the dream."],
        "United States": ["Its flag has stars and stripes.", "It is known for fast food.", "Hollywood is there."],
        "Canada": ["Its flag has a maple leaf.", "It is cold with lots of hockey.", "It is north of the border."],
        "Brazil": ["It has the Amazon rainforest.", "Carnival in Rio happens there.", "It won five football World Cups."],
        "United Kingdom": ["It has the Queen and Big Ben.", "People drink tea in London.", "Its flag is the Union Jack."],
        "France": ["It has the Eiffel Tower.", "It is famous for wine and cheese.", "Paris is its capital."],
        "Germany": ["It has Oktoberfest beer.", "Berlin is its capital.", "It is famous for cars like BMW."],
        "Japan": ["It has sushi and samurai.", "Tokyo is its capital.", "Mount Fuji is there."],
        "Australia": ["It has kangaroos and koalas.", "Sydney has an opera house.", "It is a country and a continent."],
        "viewer": ["Watches a screen.", "Looks at the picture.", "Uses the eyes."],
        "listener": ["Hears the sound.", "Uses the ears.", "Enjoys the radio."],
        "coffee": ["Black and bitter.", "Made from roasted beans.", "Espresso is strong."],
        "tea": ["Made from leaves.", "Green or black, with milk.", "Steeped in a pot."],
        "cat": ["It purrs and meows.", "Chases mice.", "Has whiskers and claws."],
        "dog": ["It barks and wags.", "Fetches a stick.", "A loyal friend on a leash."],
        "piano": ["Has black and white keys.", "Played with both hands.", "A grand instrument."],
        "guitar": ["Has six strings.", "Strummed with a pick.", "Rock bands play it."],
        "train": ["Runs on rails.", "Stops at a station.", "Has many carriages."],
        "bus": ["Drives on roads.", "Stops at a bus stop.", "Has a driver and tickets."],
        "river": ["Flows to the sea.", "Has a current and banks.", "Long and moving."],
        "lake": ["Still water.", "Surrounded by land.", "Good for a calm swim."],
        "pencil": ["Made of wood and graphite.", "Needs sharpening.", "Can be erased."],
        "pen": ["Uses ink.", "Clicks open.", "Cannot be erased."],
        "winter": ["Cold and snowy.", "Has Christmas.", "The coldest season."],
        "autumn": ["Leaves fall.", "Comes after summer.", "Orange and brown leaves."],
        "doctor": ["Diagnoses illness.", "Writes prescriptions.", "Studied medicine for years."],
        "nurse": ["Cares for patients.", "Works shifts in the ward.", "Gives injections."],
        "moon": ["Shines at night.", "Has craters and phases.", "Orbits the Earth."],
        "sun": ["Shines by day.", "A hot star.", "Gives light and warmth."],
        "butter": ["Spread on toast.", "Made by churning cream.", "Melts in a pan."],
        "cheese": ["Made from milk curds.", "Has holes sometimes.", "Goes on pizza."],
        "boat": ["Small and floats.", "Rowed with oars.", "On a pond."],
        "ship": ["Huge and crosses oceans.", "Has a captain and crew.", "Carries containers."],
        "shoe": ["Worn on the foot.", "Has laces.", "Light for running."],
        "boot": ["Covers the ankle.", "For mud and hiking.", "Heavy and tall."],
        "rain": ["Falls as drops.", "Needs an umbrella.", "Makes puddles."],
        "snow": ["Falls as white flakes.", "Build a snowman.", "Cold and fluffy."],
        "bread": ["Baked in loaves.", "Sliced for sandwiches.", "Made with yeast."],
        "cake": ["Sweet with frosting.", "For birthdays.", "Has candles on top."],
        "book": ["Has chapters.", "A novel to read.", "Has a hard cover."],
        "magazine": ["Published monthly.", "Glossy pages and ads.", "Has a celebrity cover."],
        "chair": ["Has four legs.", "Seats one person.", "At the desk."],
        "sofa": ["Seats several people.", "Soft cushions.", "In the living room."],
        "rose": ["Has thorns.", "Red for love.", "A classic bouquet flower."],
        "tulip": ["Grows from a bulb.", "Famous in Holland.", "Cup shaped petals."],
        "camera": ["Takes photos.", "Has a lens and shutter.", "Used by photographers."],
        "phone": ["Makes calls.", "Has apps and texts.", "Fits in a pocket."],
        "bee": ["Makes honey.", "Buzzes and stings.", "Lives in a hive."],
        "butterfly": ["Has colourful wings.", "Was a caterpillar.", "Flutters over flowers."],
    ]

    static let stopwords: Set<String> = [
        "it", "is", "its", "the", "a", "an", "and", "or", "of", "to", "in", "on", "with", "for", "you", "your",
        "has", "have", "are", "be", "by", "at", "as", "my", "clue", "there", "this", "that", "can", "very",
        "used", "often", "also", "people", "many", "from", "made", "like", "one", "into", "over", "all",
    ]

    /// Lower-cased content words of a text.
    public static func contentWords(_ text: String) -> Set<String> {
        Set(text.lowercased().split(whereSeparator: { !$0.isLetter }).map(String.init).filter { $0.count >= 3 && !stopwords.contains($0) })
    }

    /// The keywords of a word: its own words plus its features' content words.
    public static func keywords(_ word: String) -> Set<String> {
        var k = contentWords(word)
        for f in features[word] ?? [] { k.formUnion(contentWords(f)) }
        return k
    }

    /// How many content words a clue shares with a word's keywords.
    public static func overlap(_ clue: String, _ word: String) -> Int {
        contentWords(clue).intersection(keywords(word)).count
    }
}
